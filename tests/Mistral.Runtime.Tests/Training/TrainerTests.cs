using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Training.Metrics;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Training;

/// <summary>The trainer end to end on the tiny fixture model and the example instruct data shipped in examples/finetune.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("trainer-tests").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    private static string ExampleConfig => Path.Combine(Fixtures.Root, "..", "..", "examples", "finetune", "tiny.yaml");

    private TrainConfig Config(string run, params string[] overrides) =>
        TrainConfigLoader.Load(ExampleConfig, [$"run_dir={Path.Combine(_runs, run)}", .. overrides]);

    /// <summary>
    /// On the CPU and on CudaOps over the emulated device (fp32): the device's AdamW step, gradient norm and every
    /// backward kernel are deterministic (no float atomics), so resume is bit-exact there too.
    /// </summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void Resume_FiveStepsThenFive_IsBitIdenticalToTenStraight(string device)
    {
        // Dropout on, so the restored RNG state matters; checkpoints every 5 steps.
        string[] common = ["max_steps=10", "seq_len=24", "batch_size=1", "lora.rank=2", "lora.dropout=0.1", "ckpt_freq=5",
            "no_eval=true", "keep_last_checkpoints=3"];
        using var ops = TestDevices.Fp32Ops(device);
        new Trainer(Config("straight", common), ops).Run(resume: false, TestContext.Current.CancellationToken);

        // Interrupted after step 5 (as Ctrl+C would), then resumed from the step-5 checkpoint.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var first = new Trainer(Config("resumed", common), ops, p => { if (p.Step == 5) cancel.Cancel(); }).Run(resume: false, cancel.Token);
        Assert.Equal(5, first.Steps);
        Assert.Null(first.MergedModelPath);
        var result = new Trainer(Config("resumed", common), ops).Run(resume: true, TestContext.Current.CancellationToken);
        Assert.Equal(10, result.Steps);

        foreach (var file in new[] { TrainingCheckpoint.LoraFile, TrainingCheckpoint.NormsFile, TrainingCheckpoint.OptimizerFile })
        {
            var a = File.ReadAllBytes(Path.Combine(_runs, "straight", "checkpoints", "step_10", file));
            var b = File.ReadAllBytes(Path.Combine(_runs, "resumed", "checkpoints", "step_10", file));
            Assert.True(a.AsSpan().SequenceEqual(b), $"{file} differs between the straight and the resumed run");
        }
        // And the run did move: step 5 and step 10 adapters differ.
        var s5 = SafeTensorsFile.ReadAll(Path.Combine(_runs, "straight", "checkpoints", "step_5", TrainingCheckpoint.LoraFile));
        var s10 = SafeTensorsFile.ReadAll(Path.Combine(_runs, "straight", "checkpoints", "step_10", TrainingCheckpoint.LoraFile));
        Assert.NotEqual(s5["layers.0.attention.wq.lora_B.weight"].ToFloat32(), s10["layers.0.attention.wq.lora_B.weight"].ToFloat32());
    }

    /// <summary>
    /// recompute: true changes the memory, not the run: with dropout and eval on, the losses it reports and every
    /// checkpoint file are bit-identical to the run that keeps every activation.
    /// </summary>
    [Fact]
    public void Recompute_LossesAndCheckpointFiles_BitIdenticalToKeepingActivations()
    {
        string[] common = ["max_steps=4", "seq_len=24", "batch_size=2", "lora.rank=2", "lora.dropout=0.1", "lora.train_norms=true",
            "ckpt_freq=4", "eval_freq=2", "keep_last_checkpoints=1"];
        using var ops = new CpuOps();
        var kept = new Trainer(Config("kept", common), ops).Run(resume: false, TestContext.Current.CancellationToken);
        var recomputed = new Trainer(Config("recomputed", [.. common, "recompute=true"]), ops).Run(resume: false, TestContext.Current.CancellationToken);

        Assert.Equal((4, kept.LastTrainLoss, kept.FirstEvalLoss, kept.LastEvalLoss),
            (recomputed.Steps, recomputed.LastTrainLoss, recomputed.FirstEvalLoss, recomputed.LastEvalLoss));
        foreach (var file in new[] { TrainingCheckpoint.LoraFile, TrainingCheckpoint.NormsFile, TrainingCheckpoint.OptimizerFile })
        {
            var a = File.ReadAllBytes(Path.Combine(_runs, "kept", "checkpoints", "step_4", file));
            var b = File.ReadAllBytes(Path.Combine(_runs, "recomputed", "checkpoints", "step_4", file));
            Assert.True(a.AsSpan().SequenceEqual(b), $"{file} differs between the runs with and without recompute");
        }
    }

    [Fact]
    public void ExampleConfig_EvalLossFallsCheckpointsAndMergedModelAreWritten()
    {
        using var ops = new CpuOps();
        var config = Config("example", "max_steps=12", "eval_freq=6", "ckpt_freq=4", "keep_last_checkpoints=2");
        var progress = new List<TrainProgress>();
        var result = new Trainer(config, ops, progress.Add).Run(resume: false, TestContext.Current.CancellationToken);

        Assert.Equal(12, progress.Count);
        Assert.True(result.LastEvalLoss < result.FirstEvalLoss - 0.5, $"eval loss {result.FirstEvalLoss} -> {result.LastEvalLoss}");
        Assert.Equal([8, 12], TrainingCheckpoint.Folders(config.RunDir).List().Select(c => c.Step));
        var metrics = File.ReadAllLines(Path.Combine(config.RunDir, MetricsLog.FileName));
        Assert.Equal(12, metrics.Count(l => l.Contains("\"train_loss\"")));
        Assert.Equal(3, metrics.Count(l => l.Contains("\"eval_loss\""))); // steps 0, 6, 12

        // The merged model opens like the base model, and its wq is W + s·B·A from the last checkpoint's adapters.
        using var merged = ModelDirectory.Open(result.MergedModelPath!);
        using var baseModel = ModelDirectory.Open(config.InitialModelPath);
        Assert.Equal(baseModel.Layout, merged.Layout);
        Assert.Equal(baseModel.StoredDType, merged.StoredDType);
        Assert.True(File.Exists(Path.Combine(result.MergedModelPath!, "tokenizer.model")));
        var lora = SafeTensorsFile.ReadAll(Path.Combine(result.LastCheckpoint!, TrainingCheckpoint.LoraFile));
        var w = baseModel.Read(MistralTensorNames.Wq(1)).ToFloat32();
        var a = lora["layers.1.attention.wq.lora_A.weight"].ToFloat32();
        var b = lora["layers.1.attention.wq.lora_B.weight"].ToFloat32();
        int rank = config.Lora!.Rank, outDim = 64, inDim = 64;
        var expected = new float[w.Length];
        for (int o = 0; o < outDim; o++)
            for (int i = 0; i < inDim; i++)
            {
                double acc = w[o * inDim + i];
                for (int r = 0; r < rank; r++) acc += config.Lora.Scaling * b[o * rank + r] * a[r * inDim + i];
                expected[o * inDim + i] = (float)acc;
            }
        FloatBits.RoundToBFloat16(expected); // stored in the base model's dtype
        var actual = merged.Read(MistralTensorNames.Wq(1)).ToFloat32();
        Assert.Equal(expected, actual);
        Assert.NotEqual(w, actual);
    }

    [Fact]
    public void LoraNull_TrainsEveryWeight_ResumesBitIdentically_MergedModelIsTheTrainedWeights()
    {
        string[] common = ["lora=null", "max_steps=6", "seq_len=24", "batch_size=1", "ckpt_freq=3", "no_eval=true", "optim.lr=1e-3"];
        using var ops = new CpuOps();
        var progress = new List<TrainProgress>();
        var straight = new Trainer(Config("full", common), ops, progress.Add).Run(resume: false, TestContext.Current.CancellationToken);
        Assert.True(progress[^1].Loss < progress[0].Loss, $"loss {progress[0].Loss} -> {progress[^1].Loss}");

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        new Trainer(Config("full-resumed", common), ops, p => { if (p.Step == 3) cancel.Cancel(); }).Run(resume: false, cancel.Token);
        new Trainer(Config("full-resumed", common), ops).Run(resume: true, TestContext.Current.CancellationToken);
        foreach (var file in new[] { TrainingCheckpoint.WeightsFile, TrainingCheckpoint.OptimizerFile })
        {
            var a = File.ReadAllBytes(Path.Combine(_runs, "full", "checkpoints", "step_6", file));
            var b = File.ReadAllBytes(Path.Combine(_runs, "full-resumed", "checkpoints", "step_6", file));
            Assert.True(a.AsSpan().SequenceEqual(b), $"{file} differs between the straight and the resumed run");
        }
        Assert.False(File.Exists(Path.Combine(straight.LastCheckpoint!, TrainingCheckpoint.LoraFile)));

        // Every weight moved, and the merged model is the checkpoint's weights in the base model's dtype.
        var trained = SafeTensorsFile.ReadAll(Path.Combine(straight.LastCheckpoint!, TrainingCheckpoint.WeightsFile));
        using var baseModel = ModelDirectory.Open(Config("full", common).InitialModelPath);
        using var merged = ModelDirectory.Open(straight.MergedModelPath!);
        Assert.Equal(baseModel.Checkpoint.Tensors.Keys.Order(), trained.Keys.Order());
        foreach (var (name, tensor) in trained)
        {
            var expected = tensor.ToFloat32();
            FloatBits.RoundToBFloat16(expected);
            Assert.Equal(expected, merged.Read(name).ToFloat32());
            Assert.NotEqual(baseModel.Read(name).ToFloat32(), tensor.ToFloat32());
        }
    }
}
