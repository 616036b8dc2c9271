using System.Text.Json.Nodes;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Pretrain;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

/// <summary>
/// The `train` loop on the CPU over the tiny GPT-2 shape (tests/fixtures/tiny-gpt2/hf/config.json: 2 layers, 16 wide,
/// GPT-2's vocabulary), seeded init, on the first three documents of the example corpus (validation: two short
/// documents): checkpoint folders, resume, fallback, trainer_state.json. Blocks of 17 tokens keep a step in the
/// tens of milliseconds: the 50257-wide head is most of the work.
/// </summary>
public sealed class PretrainerTests : IDisposable
{
    private static readonly string Repo = Path.GetFullPath(Path.Combine(Fixtures.Root, "..", ".."));
    private readonly TempDir _dir = new();

    public PretrainerTests()
    {
        File.WriteAllLines(Path.Combine(_dir.Path, "train.jsonl"), File.ReadLines(Path.Combine(Repo, "examples", "train", "data", "world-factbook.jsonl")).Take(3));
        File.WriteAllLines(Path.Combine(_dir.Path, "valid.jsonl"),
        [
            """{"text": "The country is bordered by the sea to the north and by mountains to the south."}""",
            """{"text": "After independence the government adopted a new constitution and held its first elections."}""",
        ]);
    }

    public void Dispose() => _dir.Dispose();

    private string Yaml(int maxSteps, string checkpoints = "[[5, 100]]", int evalSteps = 5) => $$"""
        run_id: tiny
        artifacts: {run_dir: {{_dir.Path}}/runs, cache_dir: {{_dir.Path}}/cache}
        seed: 3
        device: cpu
        dataset: {train_files: {{_dir.Path}}/train.jsonl, validation_files: {{_dir.Path}}/valid.jsonl}
        model: {config_path: {{Fixtures.TinyGpt2Hf}}/config.json, seq_len: 17, tokenizer: {{Repo}}/tests/fixtures/tokenizers/gpt2}
        training_arguments:
          per_device_train_batch_size: 2
          gradient_accumulation_steps: 2
          learning_rate: 1.0e-2
          weight_decay: 0.1
          max_grad_norm: 1.0
          max_steps: {{maxSteps}}
          lr_scheduler_type: cosine
          warmup_steps: 2
          logging_steps: 1
          eval_steps: {{evalSteps}}
        checkpoint_frequency: {{checkpoints}}
        """;

    private PretrainConfig Config(string yaml, string name = "train.yaml")
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, yaml);
        return PretrainConfigLoader.Load(path);
    }

    private static PretrainResult Train(PretrainConfig config, bool resume = false, int stopAfter = int.MaxValue, List<string>? log = null)
    {
        using var ops = new CpuOps();
        using var cancel = new CancellationTokenSource();
        return new Pretrainer(config, ops, p => { if (p.Step >= stopAfter) cancel.Cancel(); }, log is null ? null : log.Add)
            .Run(resume, cancel.Token);
    }

    [Fact]
    public void Run_TinyRun_CheckpointFoldersAreExactlyTheSchedule()
    {
        var config = Config(Yaml(7, "[[2, 4], [3, 100]]"));
        var result = Train(config);

        Assert.Equal(7, result.Steps);
        var folders = PretrainCheckpoint.Folders(config.RunDir).List().Select(c => c.Step).ToList();
        Assert.Equal([0, 2, 4, 6], folders);
        Assert.Equal(config.Checkpoints.Steps(7), folders);
        foreach (var (_, path) in PretrainCheckpoint.Folders(config.RunDir).List()) PretrainCheckpoint.Verify(path);
        Assert.Empty(Directory.GetDirectories(config.RunDir, "*.tmp"));
    }

    // 5 steps, stop; resume to 10 = 10 uninterrupted, byte for byte (weights and AdamW moments); a checkpoint-10.tmp left
    // by a kill -9 mid-write is removed, not taken.
    [Fact]
    public void Resume_AfterStopAtStep5_ByteIdenticalToUninterruptedTenSteps()
    {
        var straight = Config(Yaml(10).Replace("run_id: tiny", "run_id: straight"));
        Train(straight);

        var resumed = Config(Yaml(10).Replace("run_id: tiny", "run_id: resumed"));
        var first = Train(resumed, stopAfter: 5);
        Assert.Equal(5, first.Steps);
        Directory.CreateDirectory(Path.Combine(resumed.RunDir, "checkpoint-10.tmp"));
        var log = new List<string>();
        var second = Train(resumed, resume: true, log: log);

        Assert.Equal(10, second.Steps);
        Assert.Contains(log, l => l.Contains("removed checkpoint-10.tmp", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("resuming from", StringComparison.Ordinal) && l.Contains("checkpoint-5", StringComparison.Ordinal));
        foreach (var file in new[] { PretrainCheckpoint.ModelFile, PretrainCheckpoint.OptimizerFile, PretrainState.FileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(straight.RunDir, "checkpoint-10", file)), File.ReadAllBytes(Path.Combine(resumed.RunDir, "checkpoint-10", file)));
    }

    [Fact]
    public void Resume_NewestCheckpointDamaged_ReportsItAndFallsBackToThePrevious()
    {
        var straight = Config(Yaml(10, "[[5, 100]]").Replace("run_id: tiny", "run_id: straight"));
        Train(straight);
        var damaged = Config(Yaml(10, "[[5, 100]]").Replace("run_id: tiny", "run_id: damaged"));
        Train(damaged, stopAfter: 5);
        var model = Path.Combine(damaged.RunDir, "checkpoint-5", PretrainCheckpoint.ModelFile);
        var bytes = File.ReadAllBytes(model);
        bytes[^7] ^= 0x10; // a flipped bit in the weights
        File.WriteAllBytes(model, bytes);

        var log = new List<string>();
        var result = Train(damaged, resume: true, log: log);

        Assert.Contains(log, l => l.StartsWith("skipping checkpoint-5:", StringComparison.Ordinal) && l.Contains("SHA-256", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("resuming from", StringComparison.Ordinal) && l.EndsWith("checkpoint-0", StringComparison.Ordinal));
        Assert.Equal(10, result.Steps);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.RunDir, "checkpoint-10", PretrainCheckpoint.ModelFile)),
            File.ReadAllBytes(Path.Combine(damaged.RunDir, "checkpoint-10", PretrainCheckpoint.ModelFile)));
    }

    [Fact]
    public void Run_TrainerStateJson_HoldsEveryLoggedStepAndEval()
    {
        var config = Config(Yaml(4, "[[4, 100]]", evalSteps: 2));
        var result = Train(config);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(config.RunDir, "checkpoint-4", HfTrainerState.FileName)))!.AsObject();
        Assert.Equal(4, (int)json["global_step"]!);
        Assert.Equal(4, (int)json["max_steps"]!);
        Assert.Equal(1, (int)json["logging_steps"]!);
        Assert.Equal(2, (int)json["eval_steps"]!);
        Assert.Equal(4, (int)json["train_batch_size"]!);       // 2 blocks × 2 accumulation steps
        Assert.Equal(4 * 4 * 17, (long)json["num_input_tokens_seen"]!);
        var history = json["log_history"]!.AsArray().Select(h => h!.AsObject()).ToList();
        var train = history.Where(h => h.ContainsKey("loss")).ToList();
        var eval = history.Where(h => h.ContainsKey("eval_loss")).ToList();
        Assert.Equal([1, 2, 3, 4], train.Select(h => (int)h["step"]!));
        Assert.Equal(0.0, (double)train[0]["learning_rate"]!);          // HF's warm-up: the first step runs at lr 0
        Assert.Equal(5e-3, (double)train[1]["learning_rate"]!, 12);      // step index 1 of 2 warm-up steps
        Assert.Equal([2, 4], eval.Select(h => (int)h["step"]!));
        Assert.Equal(result.EvalLoss!.Value, (double)eval[^1]["eval_loss"]!);
        Assert.Equal(eval.Min(h => (double)h["eval_loss"]!), (double)json["best_metric"]!);
        Assert.True(train.All(h => double.IsFinite((double)h["grad_norm"]!)));
    }
}
