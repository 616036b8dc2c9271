namespace Mistral.Runtime.Training;

/// <summary>
/// The optimizer step of a data-parallel run, whatever the ZeRO stage, as every trainer calls it: after backward
/// <see cref="ReduceGradients"/>, then <see cref="GradientNorm"/> (for clipping and logs), then <see cref="Update"/>.
/// Every call is collective: every rank makes it, in the same order. After <see cref="Update"/> every rank holds the
/// same parameters. Stage 0 (<see cref="ReplicatedOptimizer"/>): gradients all-reduced, AdamW state on every rank.
/// Stage 1 (<see cref="ShardedOptimizer"/>): each rank keeps AdamW state for its share of the parameters only.
/// </summary>
public interface IDataParallelOptimizer : IOptimizer, IDisposable
{
    /// <summary>0 or 1.</summary>
    int ZeroStage { get; }

    /// <summary>Completed updates (torch's state['step']).</summary>
    int Step { get; }

    /// <summary>Bytes of AdamW state (exp_avg and exp_avg_sq, fp32) this rank holds, and what one rank would hold unsharded.</summary>
    long StateBytes { get; }
    long UnshardedStateBytes { get; }

    /// <summary>Sums the ranks' gradients wherever they are needed for the update (every rank, or each one's owner).</summary>
    void ReduceGradients();

    /// <summary>The L2 norm of the summed gradients over every parameter: the same bits on every rank and at every stage.</summary>
    double GradientNorm();

    /// <summary>Writes this rank's part of the optimizer state into a checkpoint folder (stage 0: rank 0 alone writes).</summary>
    void WriteState(string folder);

    /// <summary>Restores the state written by any stage and world size into this rank's part; <paramref name="step"/> from the checkpoint.</summary>
    void ReadState(string checkpoint, int step);
}
