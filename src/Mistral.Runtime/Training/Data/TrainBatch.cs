using Mistral.Kernels.Ops;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// One micro-batch: windows concatenated into T packed tokens. Inputs, Targets [T]; Weights [T] (0 = no loss);
/// Attention has one sequence per document piece, positions from 0.
/// </summary>
public sealed record TrainBatch(int[] Inputs, int[] Targets, float[] Weights, AttentionBatch Attention)
{
    public int TokenCount => Inputs.Length;

    /// <summary>Σ Weights: the number of targets the loss averages over.</summary>
    public double WeightSum => Weights.Sum(w => (double)w);

    public static TrainBatch FromWindows(IReadOnlyList<PackedWindow> windows)
    {
        var lengths = windows.SelectMany(w => w.SequenceLengths).ToArray();
        return new TrainBatch(
            windows.SelectMany(w => w.Inputs).ToArray(),
            windows.SelectMany(w => w.Targets).ToArray(),
            windows.SelectMany(w => w.Weights).ToArray(),
            AttentionBatch.FromLengths(lengths));
    }
}
