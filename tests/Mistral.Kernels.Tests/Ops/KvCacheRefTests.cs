using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class KvCacheRefTests
{
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
}
