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
}
