using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// finetune under faults users really meet: a diverging run, two processes on one run_dir, a crash between
/// checkpoints, a tampered or re-configured checkpoint, bad bytes in the data, and the signals schedulers send.
/// </summary>
public sealed class FinetuneFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("finetune-faults").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ExampleConfig => FinetuneCommandTests.ExampleConfig;

    private string RunDir => Path.Combine(_dir, "run");

    private CliResult Finetune(params string[] extra) =>
        CliRunner.Run(["finetune", ExampleConfig, "--set", $"run_dir={RunDir}", "--set", "eval_freq=100", "--device", "cpu", .. extra]);

    [Fact]
    public void NonFiniteLoss_StopsNamingTheStepAndTheLastCheckpoint_WithoutATornMetricsLine()
    {
        // LoRA init adapters of 1e30: finite in the file, infinite once B·A·x is formed, so the first loss is NaN.
        var init = Path.Combine(_dir, "huge-init.safetensors");
        SafeTensorsWriter.Write(init, SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyLora, "init.safetensors")).Values
            .Select(t => HostTensor.FromFloat32(t.Name, t.ToFloat32().Select(_ => 1e30f).ToArray(), t.Shape)).ToList());
        var run = Finetune("--set", "max_steps=3", "--set", "lora.rank=4", "--set", $"lora.init_file={init}");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal("error: step 1: the loss is not finite (loss NaN, gradient norm NaN); stopped before updating the weights. " +
                     "Last good checkpoint: none. Resume from it with a lower optim.lr, or set skip_nonfinite: true to skip such steps", run.ErrLines[^1]);
        Assert.DoesNotContain("System.", run.Err);
        var metrics = Path.Combine(RunDir, "metrics.jsonl");
        Assert.All(File.Exists(metrics) ? File.ReadAllLines(metrics) : [], line => JsonDocument.Parse(line).Dispose());
    }

    [Fact]
    public void HugeLearningRate_IsRefusedByValidation()
    {
        // lr 1e30 used to pass validation and die in a System.Decimal conversion inside AdamW.
        var run = Finetune("--set", "optim.lr=1e30");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.EndsWith("tiny.yaml: optim.lr: must be in [0, 1] (got 1E+30)", Assert.Single(run.ErrLines));
        run = Finetune("--set", "lora.scaling=1e39");
        Assert.EndsWith("tiny.yaml: lora.scaling: 1e39 is outside what a 32-bit float holds (1.4E-45 to 3.4E+38 in magnitude)", Assert.Single(run.ErrLines));
    }

    [Theory]
    [InlineData("lora.rank=100000", "tiny.yaml: lora.rank: 100000 is larger than the model's width 64: a rank above the smaller side of an adapted matrix adds nothing")]
    [InlineData("seq_len=2147483647", "training with lora.rank 8, seq_len 2147483647 and batch_size 2 (weights, adapters with AdamW state, one micro-batch's activations) needs ")]
    public void HugeSizes_AreRefusedBeforeAllocating(string setting, string expected)
    {
        // The one line is the size check's: an attempted allocation would end in an out-of-memory error instead (no timing here: tests assert no speed).
        var run = Finetune("--set", setting);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains(expected, Assert.Single(run.ErrLines));
    }

    [Fact]
    public void SecondProcessOnTheSameRunDir_Exit2NamingTheHolder_AndAStaleLockIsTakenOver()
    {
        using (RunDirLock.Acquire(RunDir))
        {
            var second = Finetune("--set", "max_steps=1");
            Assert.Equal(ExitCodes.BadInput, second.ExitCode);
            Assert.StartsWith($"error: {RunDir}: run directory is in use by pid {Environment.ProcessId} on host {Environment.MachineName} since ", Assert.Single(second.ErrLines));
        }
        // A lock file left by a process that died (kill -9) holds no OS lock: the next run takes it.
        File.WriteAllText(Path.Combine(RunDir, RunDirLock.OwnerFile), "pid 999999 on host gone");
        var after = Finetune("--set", "max_steps=1");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.False(File.Exists(Path.Combine(RunDir, RunDirLock.OwnerFile)));
    }

    [Fact]
    public void ResumeAfterACrash_KeepsOneMetricsRecordPerStep()
    {
        Assert.True(Finetune("--set", "max_steps=3", "--set", "ckpt_freq=2").ExitCode == 0);
        // As if killed after step 3 was logged but before its checkpoint: drop it, and tear the last line.
        Directory.Delete(Path.Combine(RunDir, "checkpoints", "step_3"), recursive: true);
        var metrics = Path.Combine(RunDir, "metrics.jsonl");
        File.AppendAllText(metrics, "{\"step\": 4, \"train_lo");

        var resumed = Finetune("--set", "max_steps=3", "--set", "ckpt_freq=2", "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var steps = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.TryGetProperty("train_loss", out _)).Select(r => r.GetProperty("step").GetInt32()).ToArray();
        Assert.Equal([1, 2, 3], steps);
    }

    [Fact]
    public void TamperedCheckpoint_EditedWithItsManifest_IsRefusedNamingTheField_OtherwiseSkippedForTheOneBefore()
    {
        Assert.True(Finetune("--set", "max_steps=2", "--set", "ckpt_freq=1").ExitCode == 0);
        var checkpoint = Path.Combine(RunDir, "checkpoints", "step_2");
        var state = Path.Combine(checkpoint, TrainingCheckpoint.StateFile);
        File.WriteAllText(state, File.ReadAllText(state).Replace("\"Step\": 2", "\"Step\": 1000000000"));

        // Edited with the manifest made to match: every field is still checked against the config and the files.
        var manifest = Path.Combine(checkpoint, TrainingCheckpoint.ManifestFile);
        var sums = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest))!;
        var honest = sums[TrainingCheckpoint.StateFile];
        sums[TrainingCheckpoint.StateFile] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(state)));
        File.WriteAllText(manifest, JsonSerializer.Serialize(sums));
        var consistent = Finetune("--set", "max_steps=2", "--resume");
        Assert.Equal(ExitCodes.BadInput, consistent.ExitCode);
        Assert.Equal($"error: {state}: field 'Step': 1000000000, but the checkpoint folder is step_2", consistent.ErrLines[^1]);

        // Damaged (the manifest disagrees): step_2 is passed over, saying why, and the run resumes from step_1.
        sums[TrainingCheckpoint.StateFile] = honest;
        File.WriteAllText(manifest, JsonSerializer.Serialize(sums));
        var damaged = Finetune("--set", "max_steps=2", "--resume");
        Assert.True(damaged.ExitCode == 0, damaged.ToString());
        Assert.Contains($"skipping step_2: {state}: does not match its SHA-256 in manifest.json: the checkpoint was damaged or edited", damaged.OutLines);
        Assert.Contains($"resumed from {Path.Combine(RunDir, "checkpoints", "step_1")} (step 1)", damaged.OutLines);
        Assert.Equal(2, TrainingCheckpoint.ReadState(checkpoint).Step);   // written again by the resumed run, and sound
    }

    [Fact]
    public void ResumeWithAChangedLearningRate_IsRefusedSayingWhatChanged_UnlessAllowed()
    {
        Assert.True(Finetune("--set", "max_steps=2", "--set", "ckpt_freq=1").ExitCode == 0);
        var changed = Finetune("--set", "max_steps=3", "--set", "optim.lr=0.005", "--set", "seq_len=32", "--resume");
        Assert.Equal(ExitCodes.BadInput, changed.ExitCode);
        Assert.Equal($"error: {Path.Combine(RunDir, "checkpoints", "step_2", "config.yaml")}: the run was started with other settings: " +
                     "optim.lr 0.01 -> 0.005, seq_len 64 -> 32; resume with the same settings, or pass --allow-config-change", changed.ErrLines[^1]);

        var allowed = Finetune("--set", "max_steps=3", "--set", "optim.lr=0.005", "--resume", "--allow-config-change");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains("resuming with changed settings: optim.lr 0.01 -> 0.005", allowed.OutLines);
    }

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated)]
    [InlineData("INT", ExitCodes.Interrupted)]
    public async Task Signal_FinishesTheStepWritesACheckpointAndExits128PlusTheSignal(string signal, int expected)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX signals");
        var ct = TestContext.Current.CancellationToken;
        var cli = typeof(ExitCodes).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", [cli, "finetune", ExampleConfig, "--set", $"run_dir={RunDir}", "--set", "max_steps=100000",
            "--set", "ckpt_freq=100000", "--set", "eval_freq=100000", "--device", "cpu"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(ct)) is not null)
        {
            lines.Add(line);
            if (line.StartsWith("step     1/", StringComparison.Ordinal)) break;
        }
        Assert.NotNull(line);
        using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            await kill.WaitForExitAsync(ct);
        lines.AddRange((await process.StandardOutput.ReadToEndAsync(ct)).Split('\n'));
        await process.WaitForExitAsync(ct);

        Assert.True(process.ExitCode == expected, $"exit {process.ExitCode}\n{string.Join('\n', lines)}\n{await process.StandardError.ReadToEndAsync(ct)}");
        Assert.Contains(lines, l => l.StartsWith("stopped after step ", StringComparison.Ordinal));
        Assert.NotEmpty(TrainingCheckpoint.Folders(RunDir).List());
    }
}
