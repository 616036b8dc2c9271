using Mistral.Kernels.Checks;

namespace Mistral.Testing;

/// <summary>Element-wise assertion over <see cref="TensorComparison"/>: fails with its evidence (worst element, values).</summary>
public static class TensorAssert
{
    /// <summary>Passes when |actual - expected| &lt;= abs + rel·|expected| for every element. NaN never passes.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double abs, double rel = 0, string what = "tensor")
    {
        if (TensorComparison.Mismatch(expected, actual, abs, rel, what) is { } evidence)
            throw new TensorMismatchException(evidence);
    }

    /// <summary>Largest |a - b|; NaN if either holds a NaN where the other does not match it.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorComparison.MaxAbsDiff(a, b);
}

public sealed class TensorMismatchException(string message) : Exception(message);
