namespace Mistral.Kernels.Checks.Cases;

/// <summary>Lengths for the element-wise ops (add, scale, fill, copy/convert, sum of squares): 1, odd, around vector widths, big.</summary>
public static class ElementwiseCases
{
    public static IReadOnlyList<int> Lengths { get; } = [1, 3, 7, 8, 9, 17, 65, 127, 4097, 65537];

    /// <summary>Two N(0, 1) vectors of length n.</summary>
    public static (float[] A, float[] B) Build(int length, int salt = 0)
    {
        var rng = CaseRandom.For($"elementwise_{length}", salt);
        return (rng.Normal(length), rng.Normal(length));
    }
}
