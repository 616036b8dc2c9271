using System.Numerics.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>The rolling KV cache of one layer as the oracle reads it: Keys/Values [CacheRows, Slots, Hkv·Dh].</summary>
public readonly ref struct KvCacheSpans(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int slots)
{
    public ReadOnlySpan<float> Keys { get; } = keys;
    public ReadOnlySpan<float> Values { get; } = values;
    public int Slots { get; } = slots;
}

/// <summary>
/// Sliding-window causal attention with GQA over packed sequences, written plainly: for each query, the scores of
/// the keys it may see, an fp32 softmax, the weighted sum of values.
/// A query at absolute position i sees keys at positions j with i − W &lt; j ≤ i (W keys including itself), from its
/// own sequence only; query head h reads KV head h / (H / Hkv).
/// Legend: T = packed tokens, H = heads, Hkv = kv heads, Dh = head dim, W = window, S = cache slots.
/// </summary>
public static class AttentionRef
{
    /// <summary>Cache-free forward (a first prefill, or training).</summary>
    public static void Forward(
        ReadOnlySpan<float> q,    // [T, H·Dh]
        ReadOnlySpan<float> k,    // [T, Hkv·Dh]
        ReadOnlySpan<float> v,    // [T, Hkv·Dh]
        AttentionBatch batch, AttentionConfig config,
        Span<float> y,            // [T, H·Dh]
        Span<float> lse)          // [H, T] or empty
        => Forward(q, k, v, batch, config, new KvCacheSpans([], [], 0), y, lse);

    /// <summary>
    /// Forward with a rolling cache: sequence b at StartPositions[b] = s first sees the positions
    /// max(0, s − S) … s − 1 still held in row CacheRows[b] (position p in slot p % S, read in time order, as
    /// cache.py puts them back), then its own chunk's keys; the window rule is applied to absolute positions.
    /// The cache is only read (write it afterwards with <see cref="KvCacheRef.Append"/>). cache.Slots == 0: no cache.
    /// </summary>
    public static void Forward(
        ReadOnlySpan<float> q,    // [T, H·Dh]
        ReadOnlySpan<float> k,    // [T, Hkv·Dh] this chunk's keys, rotated
        ReadOnlySpan<float> v,    // [T, Hkv·Dh]
        AttentionBatch batch, AttentionConfig config,
        KvCacheSpans cache,       // [rows, S, Hkv·Dh] each, or Slots == 0
        Span<float> y,            // [T, H·Dh]
        Span<float> lse)          // [H, T] or empty
    {
        int dh = config.HeadDim, qWidth = config.NHeads * dh, kvWidth = config.NKvHeads * dh;
        int T = batch.TotalTokens;
        int maxKeys = MaxVisibleKeys(batch, config, cache.Slots);
        var scores = new float[maxKeys];
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int offset = batch.TokenOffsets[b], start = batch.StartPositions[b];
            for (int t = 0; t < batch.Lengths[b]; t++)
            {
                int token = offset + t;
                long i = start + t;                                        // absolute position of the query
                var keys = new KeyRange(i, start, config.Window, cache.Slots);
                for (int h = 0; h < config.NHeads; h++)
                {
                    int kvHead = h / config.GroupSize;
                    var qh = q.Slice(token * qWidth + h * dh, dh);
                    // score = q·k / sqrt(Dh), over cached keys (time order) then the chunk's own keys
                    int n = 0;
                    for (long j = keys.CacheFrom; j < keys.CacheTo; j++)
                        scores[n++] = config.Scale * TensorPrimitives.Dot(qh, CacheRow(cache.Keys, cache.Slots, batch.CacheRows[b], j, kvWidth, kvHead, dh));
                    for (long j = keys.ChunkFrom; j <= i; j++)
                        scores[n++] = config.Scale * TensorPrimitives.Dot(qh, k.Slice((offset + (int)(j - start)) * kvWidth + kvHead * dh, dh));

                    // fp32 softmax with the max subtracted
                    var s = scores.AsSpan(0, n);
                    float max = TensorPrimitives.Max(s);
                    float sum = 0f;
                    for (int c = 0; c < n; c++) { s[c] = MathF.Exp(s[c] - max); sum += s[c]; }
                    if (!lse.IsEmpty) lse[h * T + token] = max + MathF.Log(sum);

                    // out = Σ p·v
                    var yh = y.Slice(token * qWidth + h * dh, dh);
                    yh.Clear();
                    n = 0;
                    for (long j = keys.CacheFrom; j < keys.CacheTo; j++)
                        TensorPrimitives.MultiplyAdd(CacheRow(cache.Values, cache.Slots, batch.CacheRows[b], j, kvWidth, kvHead, dh), s[n++] / sum, yh, yh);
                    for (long j = keys.ChunkFrom; j <= i; j++)
                        TensorPrimitives.MultiplyAdd(v.Slice((offset + (int)(j - start)) * kvWidth + kvHead * dh, dh), s[n++] / sum, yh, yh);
                }
            }
        }
    }

    /// <summary>
    /// Backward of the cache-free forward, from the saved lse (no S×S matrix is kept, as flash attention does):
    /// P_ij = exp(s_ij − lse_i), D_i = dY_i·y_i, dV_j += P_ij dY_i, dS_ij = P_ij (dY_i·v_j − D_i),
    /// dQ_i += scale Σ_j dS_ij k_j, dK_j += scale dS_ij q_i. GQA: a KV head sums the gradients of its query heads.
    /// </summary>
    public static void Backward(
        ReadOnlySpan<float> q,    // [T, H·Dh]
        ReadOnlySpan<float> k,    // [T, Hkv·Dh]
        ReadOnlySpan<float> v,    // [T, Hkv·Dh]
        ReadOnlySpan<float> y,    // [T, H·Dh]
        ReadOnlySpan<float> lse,  // [H, T]
        ReadOnlySpan<float> dY,   // [T, H·Dh]
        AttentionBatch batch, AttentionConfig config,
        Span<float> dQ,           // [T, H·Dh] overwritten
        Span<float> dK,           // [T, Hkv·Dh] overwritten
        Span<float> dV)           // [T, Hkv·Dh] overwritten
    {
        int dh = config.HeadDim, qWidth = config.NHeads * dh, kvWidth = config.NKvHeads * dh;
        int T = batch.TotalTokens;
        dQ.Clear(); dK.Clear(); dV.Clear();
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int offset = batch.TokenOffsets[b], start = batch.StartPositions[b];
            for (int t = 0; t < batch.Lengths[b]; t++)
            {
                int token = offset + t;
                long i = start + t;
                var keys = new KeyRange(i, start, config.Window, cacheSlots: 0);
                for (int h = 0; h < config.NHeads; h++)
                {
                    int kvHead = h / config.GroupSize;
                    var qh = q.Slice(token * qWidth + h * dh, dh);
                    var dyh = dY.Slice(token * qWidth + h * dh, dh);
                    var dqh = dQ.Slice(token * qWidth + h * dh, dh);
                    float rowLse = lse[h * T + token];
                    float dDotY = TensorPrimitives.Dot(dyh, y.Slice(token * qWidth + h * dh, dh));  // D_i
                    for (long j = keys.ChunkFrom; j <= i; j++)
                    {
                        int keyToken = offset + (int)(j - start);
                        var kj = k.Slice(keyToken * kvWidth + kvHead * dh, dh);
                        var vj = v.Slice(keyToken * kvWidth + kvHead * dh, dh);
                        float p = MathF.Exp(config.Scale * TensorPrimitives.Dot(qh, kj) - rowLse);
                        float dS = p * (TensorPrimitives.Dot(dyh, vj) - dDotY);
                        var dvj = dV.Slice(keyToken * kvWidth + kvHead * dh, dh);
                        var dkj = dK.Slice(keyToken * kvWidth + kvHead * dh, dh);
                        TensorPrimitives.MultiplyAdd(dyh, p, dvj, dvj);
                        TensorPrimitives.MultiplyAdd(kj, config.Scale * dS, dqh, dqh);
                        TensorPrimitives.MultiplyAdd(qh, config.Scale * dS, dkj, dkj);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The absolute key positions a query at i sees: [CacheFrom, CacheTo) from the cache, [ChunkFrom, i] from the chunk.
    /// long arithmetic because Window may be int.MaxValue (plain causal).
    /// </summary>
    private readonly struct KeyRange
    {
        public KeyRange(long i, int start, int window, int cacheSlots)
        {
            long lowest = Math.Max(0, i - window + 1);
            ChunkFrom = Math.Max(lowest, start);
            CacheTo = cacheSlots > 0 ? start : 0;
            CacheFrom = cacheSlots > 0 ? Math.Max(lowest, start - (long)cacheSlots) : 0;
        }

        public long CacheFrom { get; }
        public long CacheTo { get; }
        public long ChunkFrom { get; }
    }

    private static ReadOnlySpan<float> CacheRow(ReadOnlySpan<float> cache, int slots, int cacheRow, long position, int kvWidth, int kvHead, int dh)
    {
        int slot = (int)(position % slots);
        return cache.Slice((cacheRow * slots + slot) * kvWidth + kvHead * dh, dh);
    }

    private static int MaxVisibleKeys(AttentionBatch batch, AttentionConfig config, int cacheSlots)
    {
        long max = 1;
        for (int b = 0; b < batch.SequenceCount; b++)
            max = Math.Max(max, Math.Min((long)config.Window, batch.Lengths[b] + (long)cacheSlots));
        return (int)max;
    }
}
