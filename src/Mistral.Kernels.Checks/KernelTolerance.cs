using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>How close a kernel must come to the CPU reference fed the same (storage-rounded) inputs.</summary>
public static class KernelTolerance
{
    /// <summary>fp32 storage: 1e-5 relative covers reassociated sums (tree vs sequential: ~sqrt(D)·2^-24 for D ≤ 4097)
    /// and cosf/expf within a few ulp; the 1e-6 absolute part covers results that cancel to near zero.</summary>
    public const double F32Relative = 1e-5, F32Absolute = 1e-6;

    /// <summary>bf16 storage: both sides round one fp32 result to bf16, and fp32 noise may flip that rounding: one bf16
    /// ulp, 2^-7 relative (8 significant bits), plus the fp32 absolute noise.</summary>
    public const double Bf16Relative = 1.0 / 128, Bf16Absolute = 1e-5;

    public static (double Abs, double Rel) For(DType storage) => storage switch
    {
        DType.F32 => (F32Absolute, F32Relative),
        DType.BF16 => (Bf16Absolute, Bf16Relative),
        _ => throw new ArgumentException($"no kernel tolerance for {storage}"),
    };

    /// <summary>
    /// The absolute tolerance of a column sum out[d] = start[d] + Σ_r term(r, d) over <paramref name="rows"/> rows in fp32,
    /// kernel (the two-stage order of <see cref="Ops.Cuda.ColumnReduction"/>) against the reference (rows in order).
    /// Up to <see cref="Ops.Cuda.ColumnReduction.SliceRows"/> rows both add in the same order but for where the start
    /// goes in: <see cref="F32Absolute"/>. Beyond, each side's rounding error is at most (its additions) · 2^-24 ·
    /// (|start| + Σ_r |term|) to first order — rows for the reference, slice rows + slices + 1 ≤ rows + 1 for the
    /// kernel — so the two differ by at most 2 · (rows + 1) · 2^-24 · that sum, for the largest column.
    /// </summary>
    public static double ColumnSum(int rows, int columns, float[] start, Func<int, int, double> term)
    {
        if (rows <= Ops.Cuda.ColumnReduction.SliceRows) return F32Absolute;
        double largest = 0;
        for (int d = 0; d < columns; d++)
        {
            double sum = Math.Abs(start[d]);
            for (int r = 0; r < rows; r++) sum += Math.Abs(term(r, d));
            largest = Math.Max(largest, sum);
        }
        return F32Absolute + 2.0 * (rows + 1) * Math.ScaleB(1.0, -24) * largest;
    }
}
