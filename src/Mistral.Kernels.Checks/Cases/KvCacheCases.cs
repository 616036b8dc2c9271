namespace Mistral.Kernels.Checks.Cases;

/// <summary>
/// Appending chunks to the rolling cache: sequence b writes the last min(Lengths[b], Slots) of its tokens into slot
/// position % Slots of row CacheRows[b]. k, v [T, KvWidth]; cache [Rows, Slots, KvWidth].
/// </summary>
public sealed record KvCacheCase(string Name, int KvWidth, int Slots, int[] Lengths, int[] StartPositions, int[] CacheRows)
{
    public int Tokens => Lengths.Sum();
    public int Rows => CacheRows.Max() + 1;

    public Mistral.Kernels.Ops.AttentionBatch Batch()
    {
        var offsets = new int[Lengths.Length];
        for (int b = 1; b < Lengths.Length; b++) offsets[b] = offsets[b - 1] + Lengths[b - 1];
        return new Mistral.Kernels.Ops.AttentionBatch(offsets, Lengths, StartPositions, CacheRows);
    }

    /// <summary>k, v [T, KvWidth] and the cache's previous content [Rows, Slots, KvWidth], all N(0, 1).</summary>
    public KvCacheData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        int cache = Rows * Slots * KvWidth;
        return new KvCacheData(rng.Normal(Tokens * KvWidth), rng.Normal(Tokens * KvWidth), rng.Normal(cache), rng.Normal(cache));
    }

    public override string ToString() => Name;
}

public sealed record KvCacheData(float[] K, float[] V, float[] CacheKeys, float[] CacheValues);

public static class KvCacheCases
{
    public static IReadOnlyList<KvCacheCase> All { get; } =
    [
        new("first_prefill_fits", 32, 16, [5, 12, 14], [0, 0, 0], [0, 1, 2]),
        new("chunk_longer_than_slots", 32, 16, [23], [0], [0]),
        new("chunk_wraps_around", 16, 8, [6, 3], [5, 14], [1, 0]),
        new("decode_batch_wrapped", 256, 32, [1, 1, 1, 1], [31, 32, 100, 0], [3, 2, 1, 0]),
        new("odd_width_single_slot", 5, 1, [3, 1], [0, 9], [0, 1]),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static KvCacheCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
