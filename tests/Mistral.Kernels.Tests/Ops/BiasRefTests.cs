using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class BiasRefTests
{
    public static TheoryData<string> BiasCasesData => new(BiasCases.Names);

    [Fact]
    public void Add_HandChecked()
    {
        // [2, 3] + [10, 20, 30] broadcast over rows
        var y = new float[6];
        BiasRef.Add([1, 2, 3, 4, 5, 6], [10, 20, 30], y);
        Assert.Equal([11f, 22f, 33f, 14f, 25f, 36f], y);
    }

    [Fact]
    public void Add_InPlace_EqualsOutOfPlace()
    {
        var rng = new CaseRandom(8);
        var x = rng.Normal(5 * 7);
        var b = rng.Normal(7);
        var y = new float[x.Length];
        BiasRef.Add(x, b, y);
        BiasRef.Add(x, b, x);
        Assert.Equal(y, x);
    }

    [Fact]
    public void Backward_HandChecked_Accumulates()
    {
        // column sums of [[1, 2], [3, 4], [5, 6]] = [9, 12], added to [0.5, −1]
        float[] dBias = [0.5f, -1f];
        BiasRef.Backward([1, 2, 3, 4, 5, 6], dBias);
        Assert.Equal([9.5f, 11f], dBias);
    }

    // fp32 sums of up to 300 N(0, 1) values vs fp64: ~sqrt(300)·2^-24 relative to the partial sums' size, a few 1e-6 absolute.
    private const double SumAbs = 1e-5, SumRel = 1e-6;

    [Theory]
    [MemberData(nameof(BiasCasesData))]
    public void Backward_Cases_MatchFp64ColumnSums(string name)
    {
        var c = BiasCases.Get(name);
        var data = c.Build();
        var expected = new float[c.Features];
        for (int j = 0; j < c.Features; j++)
        {
            double sum = 0;
            for (int r = 0; r < c.Rows; r++) sum += data.DY[r * c.Features + j];
            expected[j] = (float)sum;
        }
        var dBias = new float[c.Features];
        BiasRef.Backward(data.DY, dBias);
        TensorAssert.Close(expected, dBias, SumAbs, SumRel, "dBias");
    }
}
