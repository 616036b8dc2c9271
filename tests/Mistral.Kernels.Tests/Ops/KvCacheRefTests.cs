using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class KvCacheRefTests
{
    public static TheoryData<string> KvCacheCasesData => new(KvCacheCases.Names);

    [Fact]
    public void Append_WritesPositionModSlots_OnlyTheLastSlotsTokens()
    {
        // Width 1, 3 slots, two rows. Sequence 0 -> row 1: 5 tokens at positions 4..8 (values 40..80); only positions
        // 6, 7, 8 survive, in slots 0, 1, 2. Sequence 1 -> row 0: 1 token at position 10 (value 7) -> slot 1.
        var keys = new float[6];
        var values = new float[6];
        Array.Fill(keys, -1f);
        float[] k = [40, 50, 60, 70, 80, 7];
        float[] v = k.Select(e => -e).ToArray();
        var batch = new AttentionBatch([0, 5], [5, 1], [4, 10], cacheRows: [1, 0]);
        KvCacheRef.Append(k, v, batch, 1, 3, keys, values);
        Assert.Equal([-1f, 7f, -1f, 60f, 70f, 80f], keys);
        Assert.Equal([0f, -7f, 0f, -60f, -70f, -80f], values);
    }

    [Theory]
    [MemberData(nameof(KvCacheCasesData))]
    public void Append_Cases_EqualWritingEveryTokenInOrder(string name)
    {
        // Independent formulation: write every token of the chunk in time order; later positions overwrite earlier
        // ones in the same slot, which leaves exactly what "only the last min(len, S)" writes.
        var c = KvCacheCases.Get(name);
        var data = c.Build();
        var batch = c.Batch();
        var expectedKeys = (float[])data.CacheKeys.Clone();
        var expectedValues = (float[])data.CacheValues.Clone();
        for (int b = 0; b < c.Lengths.Length; b++)
            for (int t = 0; t < c.Lengths[b]; t++)
            {
                int token = batch.TokenOffsets[b] + t, slot = (c.StartPositions[b] + t) % c.Slots;
                for (int e = 0; e < c.KvWidth; e++)
                {
                    expectedKeys[(c.CacheRows[b] * c.Slots + slot) * c.KvWidth + e] = data.K[token * c.KvWidth + e];
                    expectedValues[(c.CacheRows[b] * c.Slots + slot) * c.KvWidth + e] = data.V[token * c.KvWidth + e];
                }
            }
        var keys = (float[])data.CacheKeys.Clone();
        var values = (float[])data.CacheValues.Clone();
        KvCacheRef.Append(data.K, data.V, batch, c.KvWidth, c.Slots, keys, values);
        Assert.Equal(expectedKeys, keys);
        Assert.Equal(expectedValues, values);
    }
}
