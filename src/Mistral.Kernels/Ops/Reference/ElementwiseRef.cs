using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>The small element-wise ops: residual add, scale, fill, sum of squares, and rounding to a storage dtype.</summary>
public static class ElementwiseRef
{
    /// <summary>y = a + b (model.py: <c>h = x + r</c>); y may alias a or b.</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
    }

    /// <summary>x ·= alpha.</summary>
    public static void Scale(Span<float> x, float alpha)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= alpha;
    }

    public static void Fill(Span<float> dst, float value) => dst.Fill(value);

    /// <summary>Σ x² in fp64 (the global gradient norm must not lose small gradients next to large ones).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (var e in x) sum += (double)e * e;
        return sum;
    }

    /// <summary>
    /// Rounds fp32 values in place to the nearest value of <paramref name="storage"/> (round to nearest even), which
    /// is what storing them in that dtype and reading them back does. F32 leaves them untouched.
    /// </summary>
    public static void RoundTo(DType storage, Span<float> values)
    {
        switch (storage)
        {
            case DType.F32:
                break;
            case DType.BF16:
                FloatBits.RoundToBFloat16(values);
                break;
            case DType.F16:
                for (int i = 0; i < values.Length; i++) values[i] = FloatBits.HalfToSingle(FloatBits.SingleToHalf(values[i]));
                break;
            default:
                throw new ArgumentException($"round: {storage} is not a float dtype");
        }
    }
}
