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

    /// <summary>
    /// Rows of <paramref name="length"/> tokens [rows · length], each its own sequence as Hugging Face trains a causal LM
    /// with labels = input_ids: inputs row[: length − 1], targets row[1:], every target weighted 1.
    /// </summary>
    public static TrainBatch FromRows(ReadOnlySpan<int> tokens, int rows, int length)
    {
        if (length < 2 || tokens.Length != rows * length)
            throw new ArgumentException($"{tokens.Length} tokens are not {rows} rows of {length} (at least 2) tokens", nameof(tokens));
        int n = length - 1;
        var inputs = new int[rows * n];
        var targets = new int[rows * n];
        for (int r = 0; r < rows; r++)
        {
            tokens.Slice(r * length, n).CopyTo(inputs.AsSpan(r * n));
            tokens.Slice(r * length + 1, n).CopyTo(targets.AsSpan(r * n));
        }
        var weights = new float[rows * n];
        Array.Fill(weights, 1f);
        return new TrainBatch(inputs, targets, weights, AttentionBatch.FromLengths(Enumerable.Repeat(n, rows).ToArray()));
    }
}
