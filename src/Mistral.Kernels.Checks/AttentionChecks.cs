using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// kernels/cu/attention.cu (prefill, also chunks after a cache), attention_decode.cu (one token per sequence over the
/// cache), attention_backward.cu and kv_cache.cu through <see cref="CudaOps"/> — the path the model takes, including
/// its choice between prefill and split-KV decode — against AttentionRef / KvCacheRef over <see cref="AttentionCases"/>
/// and <see cref="KvCacheCases"/>. Both sides read the same storage-rounded q, k, v, dY and cache.
/// </summary>
public static class AttentionChecks
{
    // fp32 forward: scores, online softmax and P·V in fp32 FMAs, in another order than the oracle and with exp2 instead
    // of exp; outputs are O(1) averages: a few ulps. Measured worst on the emulator 1.4e-6 (y), 1.4e-6 (lse).
    private const double F32Abs = 2e-5, F32Rel = 1e-5;
    // bf16 forward: y is stored in bf16 (half-ulp 2^-9 relative) and P is rounded to bf16 before P·V (2^-9 relative per
    // weight), so |Δy| ≲ 2·2^-9·max|v|; max|v| of ~4 for these samples gives 1.6e-2. lse stays fp32 (tight).
    private const double Bf16Abs = 2e-2, Bf16Rel = 1e-2, Bf16LseAbs = 1e-4;
    // fp32 backward: the same fp32 products in another order (tiles instead of key by key; P from expf of the same lse);
    // sums of up to window × group terms of O(1–10). Measured worst 4.8e-6 (dV of ragged-gqa4-hd64, |value| 10.6).
    private const double BackwardF32Abs = 1e-5, BackwardF32Rel = 1e-5;
    // bf16 backward: both sides round an fp32 result to bf16, so fp32 noise can flip a rounding: one ulp, 2^-7 relative.
    private const double BackwardBf16Abs = 1e-4, BackwardBf16Rel = 1.0 / 128;

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
        {
            foreach (var c in AttentionCases.All)
                yield return new KernelCheck(c.IsDecode ? "attention_decode" : "attention_prefill", dtype, c.Name, s => Forward(s, c, dtype));
            foreach (var c in AttentionCases.Everything.Where(c => c.SupportsBackward && AttentionBackwardKernel.HeadDims.Contains(c.HeadDim)))
                yield return new KernelCheck("attention_backward", dtype, c.Name, s => Backward(s, c, dtype));
            // a cache row moves as 16-byte chunks: rows of another byte width are refused by the launcher (its contract)
            foreach (var c in KvCacheCases.All.Where(c => c.KvWidth * dtype.SizeOf() % 16 == 0))
                yield return new KernelCheck("kv_cache_append", dtype, c.Name, s => KvCacheAppend(s, c, dtype));
        }
    }

    private static KernelComparison Forward(DeviceScope s, AttentionCase c, DType dtype)
    {
        var (config, batch, data) = (c.Config, c.Batch(), c.Build());
        var (q, k, v) = (Storage.Rounded(data.Q, dtype), Storage.Rounded(data.K, dtype), Storage.Rounded(data.V, dtype));
        var (cacheK, cacheV) = (Storage.Rounded(data.CacheKeys, dtype), Storage.Rounded(data.CacheValues, dtype));
        int T = batch.TotalTokens;
        var y = new float[q.Length];
        var lse = new float[config.NHeads * T];
        AttentionRef.Forward(q, k, v, batch, config, new KvCacheSpans(cacheK, cacheV, c.CacheSlots), y, lse);

        using var ops = new CudaOps(s.Device, dtype);
        var (qShape, kvShape) = (new Shape(T, config.NHeads * config.HeadDim), new Shape(T, config.NKvHeads * config.HeadDim));
        using var tq = ops.Upload(q, qShape, dtype);
        using var tk = ops.Upload(k, kvShape, dtype);
        using var tv = ops.Upload(v, kvShape, dtype);
        var cacheShape = new Shape(c.CacheRowCount, c.CacheSlots, config.NKvHeads * config.HeadDim);
        using var ck = c.HasCache ? ops.Upload(cacheK, cacheShape, dtype) : null;
        using var cv = c.HasCache ? ops.Upload(cacheV, cacheShape, dtype) : null;
        using var ty = ops.Allocate(qShape, dtype);
        using var tl = ops.Allocate(new Shape(config.NHeads, T), DType.F32);
        ops.AttentionForward(tq, tk, tv, batch, config, c.HasCache ? new KvCacheLayer(ck!, cv!, c.CacheSlots) : null, ty, tl);
        var (yAbs, yRel, lseAbs, lseRel) = dtype == DType.F32 ? (F32Abs, F32Rel, F32Abs, F32Rel) : (Bf16Abs, Bf16Rel, Bf16LseAbs, 0);
        return new KernelComparison()
            .Add("y", y, ops.DownloadFloats(ty), yAbs, yRel)
            .Add("lse", lse, ops.DownloadFloats(tl), lseAbs, lseRel);
    }

    /// <summary>The oracle's own y (rounded as a bf16 forward stores it) and lse feed both backwards: only the backward is under test.</summary>
    private static KernelComparison Backward(DeviceScope s, AttentionCase c, DType dtype)
    {
        var (config, batch, data) = (c.Config, c.Batch(), c.Build());
        var (q, k, v, dY) = (Storage.Rounded(data.Q, dtype), Storage.Rounded(data.K, dtype), Storage.Rounded(data.V, dtype), Storage.Rounded(data.DY, dtype));
        int T = batch.TotalTokens;
        var y = new float[q.Length];
        var lse = new float[config.NHeads * T];
        AttentionRef.Forward(q, k, v, batch, config, y, lse);
        y = Storage.Rounded(y, dtype);
        var (dQ, dK, dV) = (new float[q.Length], new float[k.Length], new float[v.Length]);
        AttentionRef.Backward(q, k, v, y, lse, dY, batch, config, dQ, dK, dV);

        using var ops = new CudaOps(s.Device, dtype);
        var (qShape, kvShape) = (new Shape(T, config.NHeads * config.HeadDim), new Shape(T, config.NKvHeads * config.HeadDim));
        using var tq = ops.Upload(q, qShape, dtype);
        using var tk = ops.Upload(k, kvShape, dtype);
        using var tv = ops.Upload(v, kvShape, dtype);
        using var ty = ops.Upload(y, qShape, dtype);
        using var tl = ops.Upload(lse, new Shape(config.NHeads, T), DType.F32);
        using var tdy = ops.Upload(dY, qShape, dtype);
        using var tdq = ops.Allocate(qShape, dtype);
        using var tdk = ops.Allocate(kvShape, dtype);
        using var tdv = ops.Allocate(kvShape, dtype);
        foreach (var g in new[] { tdq, tdk, tdv }) ops.Fill(g, float.NaN);   // overwritten, not accumulated
        ops.AttentionBackward(tq, tk, tv, ty, tl, tdy, batch, config, tdq, tdk, tdv);
        var (abs, rel) = dtype == DType.F32 ? (BackwardF32Abs, BackwardF32Rel) : (BackwardBf16Abs, BackwardBf16Rel);
        return new KernelComparison()
            .Add("dQ", Storage.Rounded(dQ, dtype), ops.DownloadFloats(tdq), abs, rel)
            .Add("dK", Storage.Rounded(dK, dtype), ops.DownloadFloats(tdk), abs, rel)
            .Add("dV", Storage.Rounded(dV, dtype), ops.DownloadFloats(tdv), abs, rel);
    }

    /// <summary>A copy: bit-exact, the untouched slots included.</summary>
    private static KernelComparison KvCacheAppend(DeviceScope s, KvCacheCase c, DType dtype)
    {
        var (batch, data) = (c.Batch(), c.Build());
        var (k, v) = (Storage.Rounded(data.K, dtype), Storage.Rounded(data.V, dtype));
        var (keys, values) = (Storage.Rounded(data.CacheKeys, dtype), Storage.Rounded(data.CacheValues, dtype));
        var (tk, tv) = (s.Upload(k, new Shape(c.Tokens, c.KvWidth), dtype), s.Upload(v, new Shape(c.Tokens, c.KvWidth), dtype));
        var cacheShape = new Shape(c.Rows, c.Slots, c.KvWidth);
        var (ck, cv) = (s.Upload(keys, cacheShape, dtype), s.Upload(values, cacheShape, dtype));
        KvCacheRef.Append(k, v, batch, c.KvWidth, c.Slots, keys, values);

        using var table = new AttentionSequenceTable(s.Device, batch.SequenceCount);
        KvCacheKernel.Append(s.Device, tk.Pointer, tv.Pointer, table.Upload(batch), c.KvWidth, dtype, c.Slots, ck.Pointer, cv.Pointer);
        return new KernelComparison()
            .Add("cache keys", keys, s.Download(ck), 0, 0)
            .Add("cache values", values, s.Download(cv), 0, 0);
    }

}
