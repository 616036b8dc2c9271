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
        if (!transposeA && transposeB && m <= GemvKernel.MaxRows && ma.DType == mb.DType && ma.DType == mc.DType)
        {
            GemvKernel.Forward(_device, new DeviceTensor(ma.Pointer, new Shape(m, k), ma.DType), new DeviceTensor(mb.Pointer, new Shape(n, k), mb.DType),
                alpha, beta, new DeviceTensor(mc.Pointer, new Shape(m, n), mc.DType));
            return;
        }
        // An fp32 trainable parameter (LoRA A/B) against bf16 activations: the GEMM runs in bf16 on a rounded copy.
        using var narrowA = ma.DType == mb.DType ? null : AsStorage(ma, DType.BF16);
        using var narrowB = ma.DType == mb.DType ? null : AsStorage(mb, DType.BF16);
        _device.Gemm(new GemmArgs((narrowA ?? ma).Pointer, (narrowB ?? mb).Pointer, mc.Pointer, (narrowA ?? ma).DType, mc.DType, transposeA, transposeB, m, n, k,
            Lda: a.Shape[-1], Ldb: b.Shape[-1], Ldc: n, alpha, beta));
    }

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
