using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class EmbeddingRefTests
{
    private static readonly float[] Table = [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]; // [V=4, D=3]: row r = [10r, 10r+1, 10r+2]

    [Fact]
    public void Forward_GathersRows()
    {
        var y = new float[9];
        EmbeddingRef.Forward([3, 0, 3], Table, 3, y);
        Assert.Equal([30f, 31f, 32f, 0f, 1f, 2f, 30f, 31f, 32f], y);
    }

    [Fact]
    public void Backward_RepeatedToken_AccumulatesEveryOccurrence()
    {
        float[] dTable = [100, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0];   // += keeps what was there
        float[] dY = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        EmbeddingRef.Backward([2, 0, 2], dY, 3, dTable);
        Assert.Equal([104f, 105f, 106f, 0f, 0f, 0f, 8f, 10f, 12f, 0f, 0f, 0f], dTable);
    }

    [Fact]
    public void Forward_TokenOutOfRange_ThrowsFromTheBoundsCheckedSpan()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingRef.Forward([4], Table, 3, new float[3]));
    }
}
