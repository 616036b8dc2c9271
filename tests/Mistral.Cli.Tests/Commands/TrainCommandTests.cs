using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// `train` end to end on the CPU: the example config shrunk with --set to the tiny GPT-2 shape (loss falls, every
/// checkpoint folder generates, plot draws loss and lr), a Mistral-architecture preset through the same verb, bad keys.
/// </summary>
public sealed class TrainCommandTests : IDisposable
{
    private static readonly string Repo = Path.GetFullPath(Path.Combine(Fixtures.Root, "..", ".."));
    private static readonly string Example = Path.Combine(Repo, "examples", "train", "gpt2-micro.yaml");
    private readonly string _dir = Directory.CreateTempSubdirectory("train-cli").FullName;

    // Two short held-out documents: evaluating the 13 of validation_ratio would cost more than the training does.
    public TrainCommandTests() => File.WriteAllLines(Path.Combine(_dir, "valid.jsonl"),
    [
        """{"text": "The country is bordered by the sea to the north and by mountains to the south."}""",
        """{"text": "After independence the government adopted a new constitution and held its first elections."}""",
    ]);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Shrunk(params string[] more) =>
    [
        "train", Example, "--device", "cpu",
        "--set", $"artifacts.run_dir={_dir}", "--set", $"artifacts.cache_dir={Path.Combine(_dir, "cache")}",
        "--set", $"dataset.validation_files={Path.Combine(_dir, "valid.jsonl")}",
        "--set", "model.seq_len=17", "--set", "training_arguments.per_device_train_batch_size=4", "--set", "training_arguments.effective_bsz=4",
        "--set", "training_arguments.warmup_steps=2", "--set", "training_arguments.learning_rate=2e-2",
        .. more,
    ];

    [Fact]
    public void Train_ExampleShrunkToTinyGpt2_LossFalls_EveryCheckpointGenerates_PlotDrawsLr()
    {
        var run = CliRunner.Run(Shrunk("--set", "model.id=null", "--set", $"model.config_path={Path.Combine(Fixtures.TinyGpt2Hf, "config.json")}",
            "--set", "training_arguments.max_steps=12", "--set", "training_arguments.logging_steps=3", "--set", "training_arguments.eval_steps=6",
            "--set", "checkpoint_frequency=[[6, 12]]"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.OutLines, l => l.StartsWith("step     12/12 | loss", StringComparison.Ordinal) && l.Contains("| MFU n/a |", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("step     12/12 | eval loss", StringComparison.Ordinal));

        var runDir = Path.Combine(_dir, "gpt2-micro-factbook");
        var records = File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var train = records.Where(r => r.TryGetProperty("train_loss", out _)).Select(r => r.GetProperty("train_loss").GetDouble()).ToList();
        var eval = records.Where(r => r.TryGetProperty("eval_loss", out _)).Select(r => r.GetProperty("eval_loss").GetDouble()).ToList();
        Assert.Equal(4, train.Count); // steps 3, 6, 9, 12
        Assert.Equal(2, eval.Count);  // steps 6, 12
        // From ln(50257) ≈ 10.8 at the seeded init; 12 steps of 64 tokens take about a nat off (10.77 → 9.77 measured).
        Assert.True(train[^1] < train[0] - 0.5, $"train loss {string.Join(", ", train.Select(l => l.ToString("F3", CultureInfo.InvariantCulture)))}");
        Assert.True(eval[1] < eval[0], $"eval loss {eval[0]:F3} -> {eval[1]:F3}");

        var folders = Directory.GetDirectories(runDir, "checkpoint-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["checkpoint-0", "checkpoint-12", "checkpoint-6"], folders); // ordinal order
        foreach (var folder in folders)
        {
            var generate = CliRunner.Run("generate", Path.Combine(runDir, folder!), "--prompt", "The country", "--max-tokens", "4", "--temperature", "0", "--device", "cpu");
            Assert.True(generate.ExitCode == 0, $"{folder}: {generate}");
            Assert.StartsWith("The country", generate.Out);
        }

        var plot = CliRunner.Run("plot", runDir);
        Assert.True(plot.ExitCode == 0, plot.ToString());
        var svg = File.ReadAllText(Path.Combine(runDir, "loss.svg"));
        Assert.Contains("train loss", svg);
        Assert.Contains("eval loss", svg);
        Assert.Contains("learning rate", svg);
    }

    [Fact]
    public void Train_MistralTinyPreset_TrainsWithTheSameVerb()
    {
        var run = CliRunner.Run(Shrunk("--set", "model.id=mistral-tiny", "--set", $"model.tokenizer={Path.Combine(Fixtures.TinyHf, "tokenizer.model")}",
            "--set", "training_arguments.max_steps=2", "--set", "training_arguments.logging_steps=1", "--set", "training_arguments.eval_steps=2",
            "--set", "checkpoint_frequency=[[2, 2]]"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.OutLines, l => l.StartsWith("step      2/2 | loss", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("step      2/2 | eval loss", StringComparison.Ordinal));
        var checkpoint = Path.Combine(_dir, "gpt2-micro-factbook", "checkpoint-2");
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json"))).RootElement;
        Assert.Equal("mistral", config.GetProperty("model_type").GetString());
        var generate = CliRunner.Run("generate", checkpoint, "--prompt", "The", "--max-tokens", "3", "--temperature", "0", "--device", "cpu");
        Assert.True(generate.ExitCode == 0, generate.ToString());
    }

    [Theory]
    [InlineData("training_arguments.max_stepz=3", "training_arguments.max_stepz: unknown key")]
    [InlineData("training_arguments.effective_bsz=6", "training_arguments.effective_bsz: 6 is not a multiple")]
    [InlineData("model.seq_len=1", "model.seq_len: must be at least 2")]
    public void Train_BadKey_OneLineNamingFileAndKey_Exit2(string assignment, string fragment)
    {
        var run = CliRunner.Run("train", Example, "--device", "cpu", "--set", $"artifacts.run_dir={_dir}", "--set", assignment);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrLines);
        Assert.Contains(fragment, line);
        Assert.DoesNotContain("Exception", line);
    }

    // Ctrl+C mid-run: the step finishes, a checkpoint of it is written, the run says how to resume, exit 130; --resume
    // then continues from that step.
    [Fact]
    public async Task Sigint_SavesACheckpointSaysHowToResume_Exit130_AndResumeContinues()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX signals");
        var ct = TestContext.Current.CancellationToken;
        var tiny = new[] { "--set", "model.id=null", "--set", $"model.config_path={Path.Combine(Fixtures.TinyGpt2Hf, "config.json")}",
            "--set", "training_arguments.logging_steps=1", "--set", "training_arguments.eval_steps=100000", "--set", "checkpoint_frequency=[[100000, 100000]]" };
        var start = new ProcessStartInfo("dotnet", [typeof(ExitCodes).Assembly.Location, .. Shrunk([.. tiny, "--set", "training_arguments.max_steps=100000"])])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(ct)) is not null)
        {
            lines.Add(line);
            if (line.StartsWith("step      1/", StringComparison.Ordinal)) break;
        }
        Assert.NotNull(line);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)])!)
            await kill.WaitForExitAsync(ct);
        lines.AddRange((await process.StandardOutput.ReadToEndAsync(ct)).Split('\n'));
        await process.WaitForExitAsync(ct);

        Assert.True(process.ExitCode == ExitCodes.Interrupted, $"exit {process.ExitCode}\n{string.Join('\n', lines)}\n{await process.StandardError.ReadToEndAsync(ct)}");
        var stopped = Assert.Single(lines, l => l.StartsWith("stopped after step ", StringComparison.Ordinal));
        Assert.EndsWith("--resume", stopped);
        int step = int.Parse(stopped.Split(' ')[3].TrimEnd(';'), CultureInfo.InvariantCulture);
        var runDir = Path.Combine(_dir, "gpt2-micro-factbook");
        Assert.True(Directory.Exists(Path.Combine(runDir, $"checkpoint-{step}")), $"checkpoint-{step}");

        var resumed = CliRunner.Run(Shrunk([.. tiny, "--set", $"training_arguments.max_steps={step + 1}", "--resume"]));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains(resumed.OutLines, l => l.StartsWith("resuming from ", StringComparison.Ordinal) && l.EndsWith($"checkpoint-{step}", StringComparison.Ordinal));
        Assert.Contains(resumed.OutLines, l => l.StartsWith($"step {step + 1,6}/{step + 1} | loss", StringComparison.Ordinal));
    }
}
