using Mistral.Kernels.Ops;

namespace Mistral.Kernels.Checks.Cases;

/// <summary>
/// One attention call: a ragged batch of chunks (Lengths, StartPositions), optionally reading a rolling cache of
/// CacheSlots slots that already holds each sequence's positions before its chunk. Tests run it on every device
/// against the CPU oracle; benches time the same shapes.
/// </summary>
/// <param name="ScoreScale">The extra multiplier of the scores (GPT-2's 1 / (layer_idx + 1)); 1 for Mistral.</param>
public sealed record AttentionCase(string Name, int NHeads, int NKvHeads, int HeadDim, int Window, int[] Lengths, int[] StartPositions, int CacheSlots,
    float ScoreScale = 1f)
{
    public AttentionConfig Config => new(NHeads, NKvHeads, HeadDim, Window, ScoreScale);
    public bool HasCache => CacheSlots > 0;
    public bool IsDecode => HasCache && Lengths.All(l => l == 1);
    public int Tokens => Lengths.Sum();

    /// <summary>Backward is defined for cache-free calls only (training).</summary>
    public bool SupportsBackward => !HasCache;

    /// <summary>Rows of the cache: one per sequence (see <see cref="Batch"/>), none without a cache.</summary>
    public int CacheRowCount => HasCache ? Lengths.Length : 0;

    /// <summary>Cache rows are assigned in reverse so that row != sequence index is exercised.</summary>
    public AttentionBatch Batch()
    {
        var offsets = new int[Lengths.Length];
        for (int b = 1; b < Lengths.Length; b++) offsets[b] = offsets[b - 1] + Lengths[b - 1];
        var rows = Enumerable.Range(0, Lengths.Length).Reverse().ToArray();
        return new AttentionBatch(offsets, Lengths, StartPositions, HasCache ? rows : null);
    }

    /// <summary>
    /// q, dY [T, H·Dh]; k, v [T, Hkv·Dh]; cache keys/values [CacheRowCount, CacheSlots, Hkv·Dh]; all N(0, 1). The cache
    /// content is random (a kernel-vs-oracle comparison only needs both sides to read the same numbers); the
    /// equivalence tests (chunked = one-shot, decode = banded) build consistent caches themselves.
    /// </summary>
    public AttentionData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        int T = Tokens, qWidth = NHeads * HeadDim, kvWidth = NKvHeads * HeadDim, cache = CacheRowCount * CacheSlots * kvWidth;
        return new AttentionData(rng.Normal(T * qWidth), rng.Normal(T * kvWidth), rng.Normal(T * kvWidth), rng.Normal(T * qWidth),
            rng.Normal(cache), rng.Normal(cache));
    }

    public override string ToString() => Name;
}

public sealed record AttentionData(float[] Q, float[] K, float[] V, float[] DY, float[] CacheKeys, float[] CacheValues);

/// <summary>The awkward shapes every attention implementation must get right (STYLE habit 5).</summary>
public static class AttentionCases
{
    private const int Causal = int.MaxValue;

    /// <summary>Shapes every device runs (the CUDA kernels' contract: head dims the kernels instantiate).</summary>
    public static IReadOnlyList<AttentionCase> All { get; } =
    [
        // the tiny fixture's shape: 3 prompts in one call, GQA 2:1, window 16 binds for none of them
        new("tiny-prompts", 4, 2, 16, 16, [5, 12, 14], [0, 0, 0], 0),
        // T not a multiple of the 64-query block, the window binds, MQA (GQA 4:1)
        new("window-binds-mqa", 4, 1, 16, 16, [37], [0], 0),
        // plain causal, MHA, head dim 64, crosses two query blocks
        new("causal-mha-hd64", 4, 4, 64, Causal, [100], [0], 0),
        // ragged batch with a 3-token sequence between two long ones, GQA 4:1, window < sequence
        new("ragged-gqa4-hd64", 8, 2, 64, 40, [70, 3, 130], [0, 0, 0], 0),
        // head dim 128 (Mistral 7B), GQA 2:1, window binds
        new("hd128-window", 2, 1, 128, 50, [80], [0], 0),
        // chunked prefill: chunks after a wrapped cache, window 16 = slots, chunk longer than the window
        new("chunk-crosses-window", 4, 2, 16, 16, [20, 9], [30, 5], 16),
        // chunk of 50 after 70 cached positions, window 32 < slots... = slots 32, head dim 64
        new("chunk-after-wrap-hd64", 4, 2, 64, 32, [50], [70], 32),
        // cache smaller than the window (S = min(prompt + max tokens, W)): the cache bounds what is seen
        new("cache-smaller-than-window", 4, 2, 16, 16, [7], [3], 10),
        // decode: one token per sequence, window larger than the cache, three 128-key splits
        new("decode-three-splits", 4, 2, 16, 4096, [1, 1], [400, 7], 300),
        // decode: window binds inside the cache, GQA 4:1, two splits
        new("decode-window-binds", 8, 2, 16, 200, [1], [500], 300),
        // decode at head dim 128 with the tiny cache wrapped
        new("decode-hd128", 4, 1, 128, 16, [1, 1, 1], [25, 3, 16], 16),
        // head dim 32 (the last instantiated width), a chunk of 70 after a wrapped 24-slot cache: two query blocks
        new("chunk-hd32-two-blocks", 4, 2, 32, 24, [70, 5], [50, 30], 24),
        // decode at the first position with a cache: the token sees only itself
        new("decode-first-token-hd32", 4, 2, 32, 24, [1, 1], [0, 1], 24),
        // GPT-2 layer 2 (scores ÷ 3 on top of 1/sqrt(Dh)): full causal MHA at head dim 64, ragged, crosses a query block
        new("gpt2-causal-score-scale", 4, 4, 64, Causal, [70, 9], [0, 0], 0, 1f / 3),
        // GPT-2 decode over a full-causal cache of n_positions = 300 slots: the last position (all 299 cached keys,
        // three splits) and one in the middle, scores ÷ 4
        new("gpt2-decode-full-cache", 4, 4, 64, Causal, [1, 1], [299, 130], 300, 0.25f),
        // GPT-2 chunked prefill over a full-causal cache of 64 slots that the chunk fills to the end, scores ÷ 2
        new("gpt2-chunk-full-cache", 2, 2, 32, Causal, [24, 5], [40, 59], 64, 0.5f),
        // the tiny GPT-2's shape (head dim 8: Q·Kᵀ padded to one 16-wide step, MHA, full causal), a layer-1 score scale,
        // its three prompts in one call
        new("tiny-gpt2-hd8-score-scale", 2, 2, 8, Causal, [4, 7, 9], [0, 0, 0], 0, 0.5f),
        // the tiny GPT-2 decoding over its n_positions = 64 cache: the last slot and an early position
        new("tiny-gpt2-decode-hd8", 2, 2, 8, Causal, [1, 1], [63, 9], 64),
        // odd T = 129 at head dim 128, GQA 4:1, window = the 64-query block: the third block's first keys tile lies
        // wholly outside the window, the last query is alone in its block
        new("odd-t-window-is-block-hd128-gqa4", 8, 2, 128, 64, [129], [0], 0),
        // T = 65: a full 64-row tile and one alone; window 40 cuts both tiles off their diagonal; GQA 4:1 at head dim 64
        new("t65-window40-gqa4-hd64", 8, 2, 64, 40, [65], [0], 0),
        // T = 129 and 65 in one ragged batch, window 50 (not a tile multiple: the first key tile of every query tile is
        // partial and some tiles lie wholly inside the band), GQA 4:1, head dim 32
        new("t129-t65-window50-gqa4-hd32", 8, 2, 32, 50, [129, 65], [0, 0], 0),
        // head dim 8 with GQA 2:1 and a window of 5 that cuts every tile off its diagonal, a 1-token sequence between odd ones
        new("hd8-gqa2-window5-ragged", 4, 2, 8, 5, [11, 1, 33], [0, 0, 0], 0),
        // decode exactly at the window's edge: position 32 with window 32 drops position 0 (slot 0), position 31 keeps it
        new("decode-window-edge-hd64-mqa", 4, 1, 64, 32, [1, 1], [32, 31], 32),
    ];

    /// <summary>
    /// Shapes only the oracle's own tests run: head dims and head counts no kernel instantiates, which shake out
    /// indexing that happens to work for powers of two.
    /// </summary>
    public static IReadOnlyList<AttentionCase> OracleOnly { get; } =
    [
        // the fixture's LoRA batch: 2 × 23 tokens, window 16 binds (forward and backward)
        new("tiny-train-batch", 4, 2, 16, 16, [23, 23], [0, 0], 0),
        // odd head dim, GQA 4:1, window 4 < sequence, a 1-token sequence in the middle
        new("gqa4-hd5-w4-ragged", 8, 2, 5, 4, [17, 1, 9], [0, 0, 0], 0),
        // 3 query heads sharing one kv head (MQA), head dim 7, window 3
        new("mqa3-hd7-w3", 3, 1, 7, 3, [2, 11], [0, 0], 0),
        // window 1: each token sees only itself
        new("window1-self-only", 2, 2, 3, 1, [6], [0], 0),
        // sequences that start past position 0 without a cache
        new("offset-starts-hd6", 4, 1, 6, 5, [9, 3], [40, 7], 0),
        // a chunk after a short history that does not fill the cache
        new("chunk-after-short-history", 4, 2, 6, 16, [9, 3], [3, 1], 16),
        // the very first token decoded into an empty cache
        new("decode-first-token-hd5", 8, 2, 5, 7, [1], [0], 7),
    ];

    /// <summary>Every case: what the oracle's tests run.</summary>
    public static IEnumerable<AttentionCase> Everything => All.Concat(OracleOnly);

    public static IEnumerable<string> Names => Everything.Select(c => c.Name);
    public static IEnumerable<string> BackwardNames => Everything.Where(c => c.SupportsBackward).Select(c => c.Name);
    public static AttentionCase Get(string name) => CaseTable.Find(Everything, c => c.Name, name);
}
