namespace Mistral.Kernels.Ops;

/// <summary>
/// Describes the sequences packed into one attention call: sequence b owns tokens
/// [TokenOffsets[b], TokenOffsets[b] + Lengths[b]) of the packed activations, its first token sits at absolute
/// position StartPositions[b], and (when a cache is used) it reads and writes row CacheRows[b] of the cache.
/// Attention never crosses sequences. Positions restart at 0 for every sequence of a training batch
/// (packed documents are separate sequences).
/// </summary>
public sealed class AttentionBatch
{
    public AttentionBatch(int[] tokenOffsets, int[] lengths, int[] startPositions, int[]? cacheRows = null)
    {
        if (lengths.Length != tokenOffsets.Length || startPositions.Length != tokenOffsets.Length)
            throw new ArgumentException("attention batch: offsets, lengths and start positions must have one entry per sequence");
        if (cacheRows is not null && cacheRows.Length != tokenOffsets.Length)
            throw new ArgumentException("attention batch: cache rows must have one entry per sequence");
        TokenOffsets = tokenOffsets;
        Lengths = lengths;
        StartPositions = startPositions;
        CacheRows = cacheRows ?? Enumerable.Range(0, tokenOffsets.Length).ToArray();
        int t = 0;
        for (int b = 0; b < tokenOffsets.Length; b++)
        {
            if (tokenOffsets[b] != t) throw new ArgumentException($"attention batch: sequence {b} starts at token {tokenOffsets[b]}, expected {t} (sequences are packed back to back)");
            if (lengths[b] < 0 || startPositions[b] < 0) throw new ArgumentException($"attention batch: sequence {b} has a negative length or position");
            t += lengths[b];
        }
        TotalTokens = t;
    }

    /// <summary>Sequences that all start at position 0 with no cache content (a first prefill, or training).</summary>
    public static AttentionBatch FromLengths(IReadOnlyList<int> lengths, IReadOnlyList<int>? startPositions = null)
    {
        var offsets = new int[lengths.Count];
        for (int b = 1; b < lengths.Count; b++) offsets[b] = offsets[b - 1] + lengths[b - 1];
        var starts = startPositions?.ToArray() ?? new int[lengths.Count];
        return new AttentionBatch(offsets, lengths.ToArray(), starts);
    }

    public int[] TokenOffsets { get; }
    public int[] Lengths { get; }
    public int[] StartPositions { get; }
    public int[] CacheRows { get; }
    public int SequenceCount => TokenOffsets.Length;
    public int TotalTokens { get; }

    /// <summary>Absolute position of every packed token: the input of RoPE. [T]</summary>
    public int[] Positions()
    {
        var positions = new int[TotalTokens];
        for (int b = 0; b < SequenceCount; b++)
            for (int i = 0; i < Lengths[b]; i++)
                positions[TokenOffsets[b] + i] = StartPositions[b] + i;
        return positions;
    }
}

/// <summary>
/// Static attention shape of a model. A query at position i sees keys at positions j with i - Window &lt; j &lt;= i
/// (Window keys including itself); Window = int.MaxValue means plain causal attention.
/// Query head h reads KV head h / (NHeads / NKvHeads).
/// <paramref name="ScoreScale"/> multiplies the scores on top of 1/sqrt(HeadDim): 1 / (layer_idx + 1) for HF GPT-2's
/// <c>scale_attn_by_inverse_layer_idx</c>, 1 otherwise.
/// </summary>
public sealed record AttentionConfig(int NHeads, int NKvHeads, int HeadDim, int Window, float ScoreScale = 1f)
{
    /// <summary>
    /// The one multiplier of q·k every implementation applies (oracle, prefill, decode, backward), so the
    /// softmax, the saved lse and the gradients all see the same scaled scores. Folding both factors into one fp32
    /// number is what HF's <c>reorder_and_upcast_attn</c> does; it differs from dividing twice only in rounding, and
    /// with ScoreScale = 1 it is exactly 1/sqrt(HeadDim) as before.
    /// </summary>
    public float Scale => 1f / MathF.Sqrt(HeadDim) * ScoreScale;

    /// <summary>Checked once, here, for every implementation: a zero, negative or non-finite multiplier has no softmax meaning.</summary>
    public float ScoreScale { get; init; } = float.IsFinite(ScoreScale) && ScoreScale > 0
        ? ScoreScale
        : throw new ArgumentException($"attention: score scale {ScoreScale} must be positive and finite");
    public int GroupSize => NHeads / NKvHeads;
}

/// <summary>
/// One layer's rolling KV cache: Keys/Values [CacheRows, Slots, NKvHeads * HeadDim]. Position p of a sequence lives in
/// slot p % Slots. Keys are stored after RoPE.
/// </summary>
public sealed record KvCacheLayer(Tensors.Tensor Keys, Tensors.Tensor Values, int Slots);
