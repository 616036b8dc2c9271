using Mistral.Kernels.Ops;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Pretrain;

namespace Mistral.Bench;

/// <summary>
/// `bench train --model gpt2-small`: `train`'s step (TrainingModel with the full-parameter policy: fp32 masters, working
/// weights in the activation dtype; global-norm clipping; AdamW with HF's groups) over a synthetic model of the
/// shape, with random tokens. One warm-up step, then the measured ones, each ending with a device sync. MFU is
/// <see cref="TrainingFlops"/>' formula over the device's dense bf16 peak (<see cref="DevicePeaks"/>). Never asserted.
/// </summary>
public static class FullTrainBench
{
    private const double LearningRate = 6e-4;

    public static FullTrainBenchResult Run(IOps ops, IDeviceOps device, SyntheticModel model, FullTrainBenchOptions options, double? peakFlops)
    {
        if (options.SeqLen < 2 || options.Batch < 1 || options.Repetitions < 1)
            throw new ArgumentException($"bench train: seq len {options.SeqLen} (≥ 2), batch {options.Batch} and repetitions {options.Repetitions} must be positive");
        if (model.Config.PositionLimit is int limit && options.SeqLen > limit)
            throw new ArgumentException($"bench train: --seq-len {options.SeqLen} is longer than the {limit} positions of {model.Name}");
        using var trainee = TrainingModel.Full(ops, model.Model, model.Weights);
        using var adam = new AdamW(ops, trainee.Parameters, 0.9, 0.95, 1e-8, 0.1);
        var batch = TrainBench.RandomBatch(model.Config.VocabSize, options.SeqLen, options.Batch);
        var (rates, loss, peak) = TrainBench.Measure(ops, device, trainee, adam, batch, LearningRate, options.Repetitions);
        double? mfu = TrainingFlops.Mfu(rates.Average(), TrainingFlops.PerToken(model.Config, options.SeqLen), peakFlops);
        return new FullTrainBenchResult(model.Name, ops.Name, options, rates, mfu, loss, peak);
    }
}
