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

    [Theory]
    [MemberData(nameof(BiasCasesData))]
    public void Backward_Cases_MatchFp64ColumnSums(string name)
    {
        var c = BiasCases.Get(name);
        var data = c.Build();
        var expected = new float[c.Features];
        // Each fp32 addition rounds by at most 2^-24 of its partial sum, so an in-order fp32 sum is within
        // 2^-24 · Σ_r |S_r| of the exact one (first order; S_r the partial sums), for the worst column.
        double bound = 0;
        for (int j = 0; j < c.Features; j++)
        {
            double sum = 0, partials = 0;
            for (int r = 0; r < c.Rows; r++)
            {
                sum += data.DY[r * c.Features + j];
                partials += Math.Abs(sum);
            }
            expected[j] = (float)sum;
            bound = Math.Max(bound, Math.ScaleB(partials, -24) + Math.ScaleB(Math.Abs(sum), -24));
        }
        var dBias = new float[c.Features];
        BiasRef.Backward(data.DY, dBias);
        TensorAssert.Close(expected, dBias, bound, 0, "dBias");
    }
}
