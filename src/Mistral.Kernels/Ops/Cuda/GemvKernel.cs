using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/gemv.cu: linear layers y = x · Wᵀ for at most <see cref="MaxRows"/> rows of x (decode), one
/// warp per output, 16-byte weight loads. Legend: M = rows of x, N = outputs, K = inputs, F = SwiGLU hidden width.
/// Every operand shares one storage dtype (F32 or BF16); the reference is <see cref="Reference.GemmRef"/> (and
/// <see cref="Reference.SwiGluRef"/> after it for the fused SwiGLU).
/// </summary>
public static class GemvKernel
{
    /// <summary>Rows of x one launch takes (GEMV_MAX_ROWS): more than this and the weights are better read by cuBLAS's tiles.</summary>
    public const int MaxRows = 8;

    /// <summary>Weights one launch reads against the same x (the kernel's three segments: wq, wk, wv).</summary>
    public const int MaxWeights = 3;

    /// <summary>Warps per block (GEMV_WARPS), one output each.</summary>
    private const int Warps = 4;

    /// <summary>
    /// y [M, N] = alpha · x [M, K] · w [N, K]ᵀ + beta · y, the product rounded to storage before the add (y not read when
    /// beta is 0; beta = 1 adds a residual held in y exactly as a GEMM into a tensor of its own and an add would).
    /// </summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor w, float alpha, float beta, DeviceTensor y) =>
        Forward(device, x, [w], alpha, beta, [y]);

    /// <summary>ys[i] [M, Ni] = alpha · x [M, K] · ws[i] [Ni, K]ᵀ + beta · ys[i] for up to <see cref="MaxWeights"/> weights, one launch.</summary>
    public static void Forward(IDevice device, DeviceTensor x, ReadOnlySpan<DeviceTensor> ws, float alpha, float beta, ReadOnlySpan<DeviceTensor> ys)
    {
        const string op = "gemv forward";
        if (ws.Length is 0 or > MaxWeights || ys.Length != ws.Length)
            throw new ArgumentException($"{op}: {ws.Length} weights and {ys.Length} outputs (1 to {MaxWeights} of each, as many outputs as weights)");
        int total = 0;
        var args = new KernelArgs();
        args.Add(x.Pointer);
        for (int i = 0; i < MaxWeights; i++) args.Add(i < ws.Length ? ws[i].Pointer : 0UL);
        args.Add(x.Rows);
        for (int i = 0; i < MaxWeights; i++)
        {
            int n = i < ws.Length ? Check(op, x, ws[i], ys[i], ws[i].Rows) : 0;
            args.Add(n);
            total += n;
        }
        args.Add(x.Columns);
        args.Add(alpha);
        args.Add(beta);
        for (int i = 0; i < MaxWeights; i++) args.Add(i < ys.Length ? ys[i].Pointer : 0UL);
        if (x.Rows > 0 && total > 0) device.Launch($"gemv_forward_{Launch.Suffix(op, x.DType)}", Launch.CeilDiv(total, Warps), Warps * 32, 0, args);
    }

    /// <summary>y [M, F] = silu(x · w1ᵀ) ⊙ (x · w3ᵀ), w1 (gate) and w3 (up) [F, K]: one launch, gate and up never stored.</summary>
    public static void SwiGlu(IDevice device, DeviceTensor x, DeviceTensor w1, DeviceTensor w3, DeviceTensor y)
    {
        const string op = "gemv swiglu";
        int f = Check(op, x, w1, y, w1.Rows);
        if (w3.Rows != w1.Rows || w3.Columns != w1.Columns) throw new ArgumentException($"{op}: w3 {w3.Shape} must have w1's shape {w1.Shape}");
        Launch.SameDType(op, x, w3, "x", "w3");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(w1.Pointer);
        args.Add(w3.Pointer);
        args.Add(x.Rows);
        args.Add(f);
        args.Add(x.Columns);
        args.Add(y.Pointer);
        if (x.Rows > 0 && f > 0) device.Launch($"gemv_swiglu_{Launch.Suffix(op, x.DType)}", Launch.CeilDiv(f, Warps), Warps * 32, 0, args);
    }

    /// <summary>Checks x [M, K], w [N, K], y [M, outputs] in one dtype; returns the outputs.</summary>
    private static int Check(string op, DeviceTensor x, DeviceTensor w, DeviceTensor y, int outputs)
    {
        Launch.SameDType(op, x, w, "x", "w");
        Launch.SameDType(op, x, y, "x", "y");
        int m = x.Rows, k = x.Columns;
        if (m > MaxRows) throw new ArgumentException($"{op}: x {x.Shape} has more than {MaxRows} rows");
        if (w.Columns != k) throw new ArgumentException($"{op}: w {w.Shape} must have {k} columns, as x {x.Shape}");
        if (y.Columns != outputs || y.ElementCount != (long)m * outputs) throw new ArgumentException($"{op}: y {y.Shape} must be [{m}, {outputs}]");
        return outputs;
    }
}
