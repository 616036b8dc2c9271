using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/gemv.cu: a linear layer y = x · Wᵀ for at most <see cref="MaxRows"/> rows of x (decode), one
/// warp per output, 16-byte weight loads. Legend: M = rows of x, N = outputs, K = inputs, F = SwiGLU hidden width.
/// Every operand shares one storage dtype (F32 or BF16); the reference is <see cref="Reference.GemmRef"/> (and
/// <see cref="Reference.SwiGluRef"/> after it for the fused SwiGLU).
/// </summary>
public static class GemvKernel
{
    /// <summary>Rows of x one launch takes (GEMV_MAX_ROWS): more than this and the weights are better read by cuBLAS's tiles.</summary>
    public const int MaxRows = 8;

    /// <summary>Warps per block (GEMV_WARPS), one output each.</summary>
    private const int Warps = 4;

    /// <summary>y [M, N] = alpha · x [M, K] · w [N, K]ᵀ + beta · y (y not read when beta is 0; beta = 1 adds a residual held in y).</summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor w, float alpha, float beta, DeviceTensor y)
    {
        const string op = "gemv forward";
        var (m, n, k) = Check(op, x, w, y, w.Rows);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(w.Pointer);
        args.Add(m);
        args.Add(n);
        args.Add(k);
        args.Add(alpha);
        args.Add(beta);
        args.Add(y.Pointer);
        if (m > 0 && n > 0) device.Launch($"gemv_forward_{Launch.Suffix(op, x.DType)}", Launch.CeilDiv(n, Warps), Warps * 32, 0, args);
    }

    /// <summary>y [M, F] = silu(x · w1ᵀ) ⊙ (x · w3ᵀ), with w = [w1; w3] [2F, K] one concatenated weight (gate rows first).</summary>
    public static void SwiGlu(IDevice device, DeviceTensor x, DeviceTensor w, DeviceTensor y)
    {
        const string op = "gemv swiglu";
        if (w.Rows % 2 != 0) throw new ArgumentException($"{op}: w {w.Shape} must hold the gate and up rows, an even count");
        var (m, f, k) = Check(op, x, w, y, w.Rows / 2);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(w.Pointer);
        args.Add(m);
        args.Add(f);
        args.Add(k);
        args.Add(y.Pointer);
        if (m > 0 && f > 0) device.Launch($"gemv_swiglu_{Launch.Suffix(op, x.DType)}", Launch.CeilDiv(f, Warps), Warps * 32, 0, args);
    }

    private static (int M, int N, int K) Check(string op, DeviceTensor x, DeviceTensor w, DeviceTensor y, int outputs)
    {
        Launch.SameDType(op, x, w, "x", "w");
        Launch.SameDType(op, x, y, "x", "y");
        int m = x.Rows, k = x.Columns;
        if (m > MaxRows) throw new ArgumentException($"{op}: x {x.Shape} has more than {MaxRows} rows");
        if (w.Columns != k) throw new ArgumentException($"{op}: w {w.Shape} must have {k} columns, as x {x.Shape}");
        if (y.Rows != m || y.Columns != outputs) throw new ArgumentException($"{op}: y {y.Shape} must be [{m}, {outputs}]");
        return (m, outputs, k);
    }
}
