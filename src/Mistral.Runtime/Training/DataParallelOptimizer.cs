using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Devices;

namespace Mistral.Runtime.Training;

/// <summary>Builds the <see cref="IDataParallelOptimizer"/> of a ZeRO stage, and says what it holds.</summary>
public static class DataParallelOptimizer
{
    /// <summary>AdamW's exp_avg and exp_avg_sq, fp32 each.</summary>
    public const long StateBytesPerElement = 2 * sizeof(float);

    /// <param name="zeroStage">0: replicated state; 1: state sharded across the ranks.</param>
    /// <param name="createAdamW">builds the AdamW over the parameters it is given (all of them, or this rank's share).</param>
    public static IDataParallelOptimizer Create(int zeroStage, IOps ops, ICommunicator communicator, IReadOnlyList<TrainableParameter> parameters,
        Func<IReadOnlyList<TrainableParameter>, AdamW> createAdamW) => zeroStage switch
    {
        0 => new ReplicatedOptimizer(ops, communicator, parameters, createAdamW),
        1 => new ShardedOptimizer(ops, communicator, parameters, createAdamW),
        _ => throw new ArgumentOutOfRangeException(nameof(zeroStage), zeroStage, "ZeRO stage 0 or 1"),
    };

    /// <summary>The line said at start: e.g. "ZeRO-1: AdamW state 74.5 KiB on rank 0 of 2 (largest shard 74.5 KiB) instead of 148.5 KiB on every rank".</summary>
    public static string Describe(IDataParallelOptimizer optimizer, int rank, int worldSize) => optimizer switch
    {
        ShardedOptimizer s =>
            $"ZeRO-1: AdamW state {MemoryBudget.Format(s.StateBytes)} on rank {rank} of {worldSize} (largest shard {MemoryBudget.Format(s.LargestShardBytes)}) " +
            $"instead of {MemoryBudget.Format(s.UnshardedStateBytes)} on every rank",
        _ => $"ZeRO-0: AdamW state {MemoryBudget.Format(optimizer.StateBytes)} on every rank" +
             (worldSize > 1 ? $" (zero_stage: 1 would hold about {MemoryBudget.Format((double)optimizer.StateBytes / worldSize)} per rank)" : ""),
    };

    internal static long StateBytesOf(IEnumerable<TrainableParameter> parameters) => parameters.Sum(p => p.Value.ElementCount) * StateBytesPerElement;
}
