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
        DeviceChecks.That(ma.DType is DType.F32 or DType.BF16 && mb.DType is DType.F32 or DType.BF16, op, $"a {a} and b {b} must be F32 or BF16");
        DeviceChecks.That(ma.DType == mb.DType || ActivationDType == DType.BF16, op,
            $"a {a} and b {b} must share a dtype with F32 activations (weights are uploaded in the activation dtype)");
        DeviceChecks.That(mc.DType is DType.F32 or DType.BF16, op, $"c {c} must be F32 or BF16");
        DeviceChecks.That(!ReferenceEquals(c, a) && !ReferenceEquals(c, b), op, "c must not be a or b");
        // Every operand is seen as a matrix [product of leading dims, last dim], as the CPU reference does.
        int m = transposeA ? a.Shape[-1] : a.Shape.Rows, k = transposeA ? a.Shape.Rows : a.Shape[-1];
        int kb = transposeB ? b.Shape[-1] : b.Shape.Rows, n = transposeB ? b.Shape.Rows : b.Shape[-1];
        string shapes = $"op(a) = a{a.Shape}{(transposeA ? "ᵀ" : "")}, op(b) = b{b.Shape}{(transposeB ? "ᵀ" : "")}, c{c.Shape}";
        DeviceChecks.That(k == kb, op, $"inner dimensions differ ({k} vs {kb}): {shapes}");
        DeviceChecks.That(c.Shape.Rows == m && c.Shape[-1] == n, op, $"c must be [{m}, {n}]: {shapes}");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            Scale(c, beta);
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
        var dtype = ActivationDType;
        var (mq, mk, mv, my) = (DeviceChecks.Float(this, op, "q", q, dtype), DeviceChecks.Float(this, op, "k", k, dtype),
            DeviceChecks.Float(this, op, "v", v, dtype), DeviceChecks.Float(this, op, "y", y, dtype));
        var ml = lse is null ? null : DeviceChecks.F32(this, op, "lse", lse);
        CheckAttentionShapes(op, q, k, v, batch, config);
        DeviceChecks.SameShape(op, "y", y, "q", q);
        if (lse is not null)
            DeviceChecks.Count(op, "lse", lse, (long)config.NHeads * batch.TotalTokens, $"[{config.NHeads}, {batch.TotalTokens}] (heads × tokens)");
        var (ck, cv) = cache is null ? (null, null) : CheckCache(op, cache, batch, config.NKvHeads * config.HeadDim);
        if (batch.TotalTokens == 0) return;

        var operands = new AttentionOperands(dtype, mq.Pointer, mk.Pointer, mv.Pointer, ck?.Pointer ?? 0, cv?.Pointer ?? 0,
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
        var (mk, mv) = (DeviceChecks.On(this, op, "k", k), DeviceChecks.On(this, op, "v", v));
        DeviceChecks.SameShape(op, "v", v, "k", k);
        DeviceChecks.That(batch.TotalTokens > 0 && k.ElementCount % batch.TotalTokens == 0, op, $"k {k.Shape} is not [{batch.TotalTokens}, Hkv·Dh]");
        int kvWidth = (int)(k.ElementCount / batch.TotalTokens);
        var (ck, cv) = CheckCache(op, cache, batch, kvWidth);
        DeviceChecks.That(ck.DType == mk.DType && mv.DType == mk.DType, op, $"k {k}, v {v} and the cache {cache.Keys} must share a dtype");
        KvCacheKernel.Append(_device, mk.Pointer, mv.Pointer, UploadBatch(batch), kvWidth, mk.DType, cache.Slots, ck.Pointer, cv.Pointer);
    }

    private static void CheckAttentionShapes(string op, Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config)
    {
        DeviceChecks.That(config.NHeads > 0 && config.NKvHeads > 0 && config.NHeads % config.NKvHeads == 0, op,
            $"{config.NHeads} heads cannot share {config.NKvHeads} kv heads evenly");
        DeviceChecks.That(config.HeadDim > 0 && config.Window > 0, op, $"head dim {config.HeadDim} and window {config.Window} must be positive");
        int tokens = batch.TotalTokens;
        DeviceChecks.Count(op, "q", q, (long)tokens * config.NHeads * config.HeadDim, $"[{tokens}, {config.NHeads}·{config.HeadDim}] (tokens × heads·head dim)");
        DeviceChecks.Count(op, "k", k, (long)tokens * config.NKvHeads * config.HeadDim, $"[{tokens}, {config.NKvHeads}·{config.HeadDim}] (tokens × kv heads·head dim)");
        DeviceChecks.SameShape(op, "v", v, "k", k);
    }

    private (CudaTensor Keys, CudaTensor Values) CheckCache(string op, KvCacheLayer cache, AttentionBatch batch, int kvWidth)
    {
        var keys = DeviceChecks.On(this, op, "cache keys", cache.Keys);
        var values = DeviceChecks.On(this, op, "cache values", cache.Values);
        DeviceChecks.That(cache.Slots > 0, op, $"cache has {cache.Slots} slots");
        DeviceChecks.SameShape(op, "cache values", cache.Values, "cache keys", cache.Keys);
        DeviceChecks.That(keys.DType == values.DType && keys.DType == ActivationDType, op,
            $"the cache {cache.Keys} must be stored in the activation dtype {ActivationDType}");
        var shape = cache.Keys.Shape;
        DeviceChecks.That(shape.Rank >= 1 && shape[0] > 0 && shape.ElementCount == (long)shape[0] * cache.Slots * kvWidth, op,
            $"cache keys {shape} must be [rows, {cache.Slots} slots, {kvWidth}]");
        for (int b = 0; b < batch.SequenceCount; b++)
            DeviceChecks.That((uint)batch.CacheRows[b] < (uint)shape[0], op, $"sequence {b} uses cache row {batch.CacheRows[b]}, the cache has {shape[0]} rows");
        return (keys, values);
    }
}
