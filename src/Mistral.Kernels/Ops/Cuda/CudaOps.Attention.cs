using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>GEMM, attention and the rolling cache on the device.</summary>
public sealed partial class CudaOps
{
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha, float beta, Tensor c)
    {
        const string op = "gemm";
        var (ma, mb, mc) = (DeviceChecks.On(this, op, "a", a), DeviceChecks.On(this, op, "b", b), DeviceChecks.On(this, op, "c", c));
        var (m, n, k) = OpContract.Gemm(op, a, transposeA, b, transposeB, c);
        // Mixed dtypes are an fp32 trained matrix (LoRA) against bf16 activations; the device GEMM checks it has F32/BF16.
        if (a.DType != b.DType && ActivationDType != DType.BF16)
            throw new ArgumentException($"{op}: a {a} and b {b} must share a dtype with F32 activations (weights are uploaded in the activation dtype)");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            Scale(c, beta);
            return;
        }
        // A linear layer on a few rows (decode) reads each weight once: the GEMV kernel streams W with 16-byte loads
        // where cuBLAS would pick a tile for a large M. One storage dtype only (the mixed LoRA case goes to cuBLAS).
        if (!transposeA && transposeB && Gemv(ma, [mb], [mc]))
        {
            GemvKernel.Forward(_device, Matrix(ma), [Matrix(mb)], alpha, beta, [Matrix(mc)]);
            return;
        }
        // An fp32 trainable parameter (LoRA A/B) against bf16 activations: the GEMM runs in bf16 on a rounded copy.
        using var narrowA = ma.DType == mb.DType ? null : AsStorage(ma, DType.BF16);
        using var narrowB = ma.DType == mb.DType ? null : AsStorage(mb, DType.BF16);
        _device.Gemm(new GemmArgs((narrowA ?? ma).Pointer, (narrowB ?? mb).Pointer, mc.Pointer, (narrowA ?? ma).DType, mc.DType, transposeA, transposeB, m, n, k,
            Lda: a.Shape[-1], Ldb: b.Shape[-1], Ldc: n, alpha, beta));
    }

    /// <summary>One GEMV launch for up to three weights when x has few rows (q, k, v of a decode step); else the GEMMs.</summary>
    public void Linears(Tensor x, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> ys)
    {
        const string op = "linears";
        if (weights.Count != ys.Count) throw new ArgumentException($"{op}: {weights.Count} weights but {ys.Count} outputs");
        var mx = DeviceChecks.On(this, op, "x", x);
        var mw = weights.Select((w, i) => DeviceChecks.On(this, op, $"weights[{i}]", w)).ToArray();
        var my = ys.Select((y, i) => DeviceChecks.On(this, op, $"ys[{i}]", y)).ToArray();
        for (int i = 0; i < weights.Count; i++) OpContract.Gemm(op, x, false, weights[i], true, ys[i]);
        if (weights.Count > GemvKernel.MaxWeights || x.Shape[-1] == 0 || !Gemv(mx, mw, my))
        {
            for (int i = 0; i < weights.Count; i++) Gemm(x, false, weights[i], true, 1f, 0f, ys[i]);
            return;
        }
        GemvKernel.Forward(_device, Matrix(mx), [.. mw.Select(Matrix)], 1f, 0f, [.. my.Select(Matrix)]);
    }

    /// <summary>y += x · wᵀ as one GEMV launch with the add in its epilogue when x has few rows; else GEMM into scratch, then Add.</summary>
    public void LinearAdd(Tensor x, Tensor w, Tensor y)
    {
        const string op = "linear_add";
        var (mx, mw, my) = (DeviceChecks.On(this, op, "x", x), DeviceChecks.On(this, op, "w", w), DeviceChecks.On(this, op, "y", y));
        OpContract.Gemm(op, x, false, w, true, y);
        if (x.Shape[-1] > 0 && Gemv(mx, [mw], [my]))
        {
            GemvKernel.Forward(_device, Matrix(mx), [Matrix(mw)], 1f, 1f, [Matrix(my)]);
            return;
        }
        using var product = Rent(y.Shape, y.DType);
        Gemm(x, false, w, true, 1f, 0f, product);
        Add(y, product, y);
    }

    /// <summary>The SwiGLU MLP's w1, w3 and SwiGLU as one GEMV launch when x has few rows (gate and up not written); else GEMM, GEMM, SwiGLU.</summary>
    public void SwiGluLinear(Tensor x, Tensor w1, Tensor w3, Tensor gate, Tensor up, Tensor y)
    {
        const string op = "swiglu_linear";
        var (mx, m1, m3, my) = (DeviceChecks.On(this, op, "x", x), DeviceChecks.On(this, op, "w1", w1), DeviceChecks.On(this, op, "w3", w3), DeviceChecks.On(this, op, "y", y));
        OpContract.Gemm(op, x, false, w1, true, gate);
        OpContract.Gemm(op, x, false, w3, true, up);
        OpContract.Gemm(op, x, false, w1, true, y);
        if (x.Shape[-1] == 0 || !Gemv(mx, [m1, m3], [my]))
        {
            Gemm(x, false, w1, true, 1f, 0f, gate);
            Gemm(x, false, w3, true, 1f, 0f, up);
            SwiGluForward(gate, up, y);
            return;
        }
        GemvKernel.SwiGlu(_device, Matrix(mx), Matrix(m1), Matrix(m3), Matrix(my));
    }

    /// <summary>True when x · wᵀ goes to the GEMV kernel: at most <see cref="GemvKernel.MaxRows"/> rows of x, one storage dtype for all.</summary>
    private static bool Gemv(CudaTensor x, CudaTensor[] weights, CudaTensor[] ys) =>
        x.Shape.Rows <= GemvKernel.MaxRows && x.DType is (DType.F32 or DType.BF16)
        && weights.All(w => w.DType == x.DType) && ys.All(y => y.DType == x.DType);

    /// <summary>A tensor as the 2-D matrix [rows, last dim] a GEMV launcher takes.</summary>
    private static DeviceTensor Matrix(CudaTensor t) => new(t.Pointer, new Shape(t.Shape.Rows, t.Shape[-1]), t.DType);

    public void AttentionForward(Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config, KvCacheLayer? cache, Tensor y, Tensor? lse)
    {
        const string op = "attention_forward";
        var (mq, mk, mv, my) = (Stored(op, "q", q), Stored(op, "k", k), Stored(op, "v", v), Stored(op, "y", y));
        var ml = lse is null ? null : DeviceChecks.On(this, op, "lse", lse);
        var (ck, cv) = cache is null ? (null, null) : (Stored(op, "cache keys", cache.Keys), Stored(op, "cache values", cache.Values));
        OpContract.AttentionForward(op, q, k, v, batch, config, cache, y, lse);
        if (batch.TotalTokens == 0) return;

        var operands = new AttentionOperands(ActivationDType, mq.Pointer, mk.Pointer, mv.Pointer, ck?.Pointer ?? 0, cv?.Pointer ?? 0,
            cache?.Slots ?? 0, my.Pointer, ml?.Pointer ?? 0);
        var sequences = UploadBatch(batch);
        bool decode = cache is not null && sequences.MaxLength == 1 && sequences.TotalTokens == sequences.Count
                      && config.GroupSize <= AttentionDecodeKernel.MaxGroupSize;
        if (!decode)
        {
            AttentionKernel.Forward(_device, operands, sequences, config);
            return;
        }
        long workspaceBytes = AttentionDecodeKernel.WorkspaceBytes(config, cache!.Slots, sequences.Count);
        var workspace = Pool.Rent(workspaceBytes);
        try
        {
            AttentionDecodeKernel.Forward(_device, operands, sequences, config, workspace.Cast<float>());
        }
        finally
        {
            Pool.Return(workspace);   // stream order keeps the next user behind this step's kernels
        }
    }

    public void KvCacheAppend(Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer cache)
    {
        const string op = "kv_cache_append";
        var (mk, mv) = (Stored(op, "k", k), Stored(op, "v", v));
        var (ck, cv) = (Stored(op, "cache keys", cache.Keys), Stored(op, "cache values", cache.Values));
        int kvWidth = OpContract.KvCacheAppend(op, k, v, batch, cache);
        KvCacheKernel.Append(_device, mk.Pointer, mv.Pointer, UploadBatch(batch), kvWidth, mk.DType, cache.Slots, ck.Pointer, cv.Pointer);
    }

    /// <summary>A tensor of these ops in the activation dtype: the attention kernels take q, k, v, y and the cache in one storage type.</summary>
    private CudaTensor Stored(string op, string name, Tensor tensor) => DeviceChecks.Stored(this, op, name, tensor, ActivationDType);
}
