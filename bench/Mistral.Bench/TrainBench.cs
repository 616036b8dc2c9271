using System.Diagnostics;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Bench;

/// <summary>What `bench train` measures: one LoRA optimizer step per repetition on one sequence of SeqLen tokens.</summary>
/// <param name="SeqLen">Tokens per step (one packed sequence, every target weighted).</param>
/// <param name="Rank">LoRA rank on every target projection (wq, wk, wv, wo, w1, w2, w3), norms trained too.</param>
public sealed record TrainBenchOptions(int SeqLen = 4096, int Rank = 16, int Repetitions = 3)
{
    public const double Scaling = 2.0;
}

/// <summary>Tokens/second of each measured step, the loss of the last, and the most device memory held.</summary>
public sealed record TrainBenchResult(string Model, string Device, TrainBenchOptions Options, IReadOnlyList<double> TokensPerSecond, double LastLoss, long PeakDeviceBytes)
{
    public override string ToString()
    {
        double mean = TokensPerSecond.Average();
        double sd = TokensPerSecond.Count < 2 ? 0 : Math.Sqrt(TokensPerSecond.Sum(x => (x - mean) * (x - mean)) / (TokensPerSecond.Count - 1));
        return $"train {Model} on {Device}: seq {Options.SeqLen}, LoRA r{Options.Rank} on wq wk wv wo w1 w2 w3 + norms: " +
               $"{mean:F1} ± {sd:F1} tok/s, peak device memory {PeakDeviceBytes / (double)(1L << 30):F2} GiB, loss {LastLoss:F4}";
    }
}

/// <summary>
/// `bench train`: full LoRA training steps (forward with the tape, cross-entropy, backward, global-norm clipping,
/// AdamW) on a synthetic model of a named shape made on the device, with random tokens. The step is the trainer's
/// (TrainingModel with the LoRA policy + AdamW) so the figure is what `finetune` gets per token. One warm-up step precedes the
/// measured ones; each ends with a device sync. Peak device memory is the device's allocation high-water mark seen
/// after each step (the arena only grows, so that is the step's peak). A figure to report, never asserted.
/// </summary>
public static class TrainBench
{
    private const double MaxGradNorm = 1.0, LearningRate = 1e-4;

    public static TrainBenchResult Run(IOps ops, IDeviceOps device, SyntheticModel model, TrainBenchOptions options)
    {
        if (options.SeqLen < 1 || options.Rank < 1 || options.Repetitions < 1)
            throw new ArgumentException($"bench train: seq len {options.SeqLen}, rank {options.Rank} and repetitions {options.Repetitions} must be positive");
        var lora = new LoraConfig(options.Rank, 0, TrainBenchOptions.Scaling, LoraConfig.AllTargets, null, TrainNorms: true);
        using var adapters = LoraAdapters.Create(ops, model.Model, lora, Xoshiro256StarStar.ForStream(0, 0));
        using var trainee = TrainingModel.Lora(ops, model.Model, adapters, trainNorms: true, 0, Xoshiro256StarStar.ForStream(0, 0));
        using var adam = new AdamW(ops, trainee.Parameters, 0.9, 0.95, 1e-8, 0.1);
        var batch = RandomBatch(model.Config.VocabSize, options.SeqLen);

        var (rates, loss, peak) = Measure(ops, device, trainee, adam, batch, LearningRate, options.Repetitions);
        return new TrainBenchResult(model.Name, ops.Name, options, rates, loss, peak);
    }

    /// <summary>
    /// One warm-up step (kernel loads, arena growth), then <paramref name="repetitions"/> measured optimizer steps of
    /// <paramref name="trainee"/> on <paramref name="batch"/> (forward and backward, global-norm clipping at 1, AdamW),
    /// each ended by a device sync: tokens/s of each, the last step's loss, the most device memory seen held.
    /// </summary>
    internal static (List<double> Rates, double Loss, long PeakBytes) Measure(IOps ops, IDeviceOps device, TrainingModel trainee, AdamW adam,
        TrainBatch batch, double learningRate, int repetitions)
    {
        long peak = 0;
        double loss = double.NaN;
        double Step()
        {
            var watch = Stopwatch.StartNew();
            trainee.ZeroGrads();
            loss = trainee.ForwardBackward(batch, batch.WeightSum) / batch.WeightSum;
            double norm = GradientClipping.GlobalNorm(ops, trainee.Parameters);
            trainee.Update(adam, learningRate, GradientClipping.Scale(norm, MaxGradNorm));
            device.Device.Synchronize();
            double rate = batch.TokenCount / watch.Elapsed.TotalSeconds;
            peak = Math.Max(peak, device.Device.LiveBytes);
            return rate;
        }

        Step();
        var rates = Enumerable.Range(0, repetitions).Select(_ => Step()).ToList();
        return (rates, loss, peak);
    }

    /// <summary><paramref name="sequences"/> sequences of random ids (BOS first) and their next-token targets, every target weighted 1.</summary>
    internal static TrainBatch RandomBatch(int vocab, int seqLen, int sequences = 1)
    {
        var random = new Random(1234);
        var windows = new List<PackedWindow>(sequences);
        for (int s = 0; s < sequences; s++)
        {
            var ids = new int[seqLen + 1];
            ids[0] = 1;
            for (int i = 1; i < ids.Length; i++) ids[i] = random.Next(vocab);
            windows.Add(new PackedWindow(ids[..seqLen], ids[1..], Enumerable.Repeat(1f, seqLen).ToArray(), [seqLen]));
        }
        return TrainBatch.FromWindows(windows);
    }
}
