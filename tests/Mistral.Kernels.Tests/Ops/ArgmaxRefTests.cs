using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class ArgmaxRefTests
{
    [Fact]
    public void Argmax_PerRow_LowestIndexOnTies()
    {
        float[] logits =
        [
            1, 5, 5, 2,                       // tie between 1 and 2 -> 1
            -3, -1, -2, -1,                   // tie between 1 and 3 -> 1
            7, 7, 7, 7,                       // all equal -> 0
            float.NegativeInfinity, -1e30f, 0, 3,
        ];
        var ids = new int[4];
        ArgmaxRef.Argmax(logits, 4, ids);
        Assert.Equal([1, 1, 0, 3], ids);
    }
}
