using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class RmsNormRefTests
{
    public static TheoryData<string> RmsNormCasesData => new(RmsNormCases.Names);

    // fp32 sum of up to 4097 squares then a few multiplies, against fp64: relative error ~ a few 1e-7.
    private const double Abs = 1e-6, Rel = 2e-6;

    [Fact]
    public void Forward_HandChecked()
    {
        // x = [3, 4]: mean(x²) = 12.5, eps 0 -> rstd = 1/sqrt(12.5) = 0.28284271; weight [1, 2]
        float[] x = [3, 4];
        float[] w = [1, 2];
        var y = new float[2];
        var rstd = new float[1];
        RmsNormRef.Forward(x, w, 0f, y, rstd);
        TensorAssert.Close([0.84852814f, 2.2627417f], y, 1e-6, 0, "y");
        TensorAssert.Close([0.28284271f], rstd, 1e-7, 0, "rstd");
    }

    [Fact]
    public void Forward_EpsGoesInsideTheRoot()
    {
        // x = [0, 0, 0, 2]: mean(x²) = 1; eps = 3 -> rstd = 1/sqrt(4) = 0.5 exactly
        var y = new float[4];
        RmsNormRef.Forward([0, 0, 0, 2], [1, 1, 1, 1], 3f, y, []);
        Assert.Equal([0f, 0f, 0f, 1f], y);
    }

    [Theory]
    [MemberData(nameof(RmsNormCasesData))]
    public void Forward_Cases_MatchFp64(string name)
    {
        var c = RmsNormCases.Get(name);
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var (x, w) = (data.X, data.Weight);
        var expected = new float[rows * dim];
        var expectedRstd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int d = 0; d < dim; d++) ms += (double)x[r * dim + d] * x[r * dim + d];
            double s = 1 / Math.Sqrt(ms / dim + eps);
            expectedRstd[r] = (float)s;
            for (int d = 0; d < dim; d++) expected[r * dim + d] = (float)(x[r * dim + d] * s * w[d]);
        }
        var y = new float[rows * dim];
        var rstd = new float[rows];
        RmsNormRef.Forward(x, w, eps, y, rstd);
        TensorAssert.Close(expected, y, Abs, Rel, "y");
        TensorAssert.Close(expectedRstd, rstd, 0, Rel, "rstd");
    }

    [Fact]
    public void Forward_InPlace_EqualsOutOfPlace()
    {
        var rng = new CaseRandom(5);
        var x = rng.Normal(3 * 17);
        var w = rng.Normal(17);
        var y = new float[x.Length];
        RmsNormRef.Forward(x, w, 1e-5f, y, []);
        RmsNormRef.Forward(x, w, 1e-5f, x, []);
        Assert.Equal(y, x);
    }

    // fp32 analytic gradients of O(1) values vs fp64 central differences (error ≪ 1e-9): fp32 rounding of sums of
    // ≤ 65 products dominates, a few 1e-7 relative.
    private const double GradAbs = 2e-6, GradRel = 1e-5;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(4, 65)]
    public void Backward_MatchesFiniteDifferences(int rows, int dim)
    {
        var rng = new CaseRandom(rows * 100 + dim);
        var x = rng.Normal(rows * dim);
        var w = rng.Uniform(dim, 0.5f, 1.5f);
        var dY = rng.Normal(rows * dim);
        const float eps = 1e-3f;   // not negligible next to mean(x²) for dim 1, so its place in the formula is tested too

        var rstd = new float[rows];
        RmsNormRef.Forward(x, w, eps, new float[x.Length], rstd);
        var dX = new float[x.Length];
        var dW = Enumerable.Repeat(0.25f, dim).ToArray();   // += : starts from 0.25
        RmsNormRef.Backward(x, w, rstd, dY, dX, dW);

        var dYd = FiniteDifference.ToDouble(dY);
        double Loss(double[] xs, double[] ws)
        {
            var y = new double[xs.Length];
            for (int r = 0; r < rows; r++)
            {
                double ms = 0;
                for (int d = 0; d < dim; d++) ms += xs[r * dim + d] * xs[r * dim + d];
                double s = 1 / Math.Sqrt(ms / dim + eps);
                for (int d = 0; d < dim; d++) y[r * dim + d] = xs[r * dim + d] * s * ws[d];
            }
            return FiniteDifference.Dot(dYd, y);
        }
        var xd = FiniteDifference.ToDouble(x);
        var wd = FiniteDifference.ToDouble(w);
        var expectedDx = FiniteDifference.Gradient(xs => Loss(xs, wd), xd);
        var expectedDw = FiniteDifference.Gradient(ws => Loss(xd, ws), wd).Select(g => g + 0.25).ToArray();
        TensorAssert.Close(FiniteDifference.ToSingle(expectedDx), dX, GradAbs, GradRel, "dX");
        TensorAssert.Close(FiniteDifference.ToSingle(expectedDw), dW, GradAbs, GradRel, "dWeight");
    }

    [Fact]
    public void Backward_NoWeightGradient_StillComputesDx()
    {
        var rng = new CaseRandom(3);
        var x = rng.Normal(2 * 7);
        var w = rng.Normal(7);
        var dY = rng.Normal(2 * 7);
        var rstd = new float[2];
        RmsNormRef.Forward(x, w, 1e-5f, new float[x.Length], rstd);
        var withWeight = new float[x.Length];
        var without = new float[x.Length];
        RmsNormRef.Backward(x, w, rstd, dY, withWeight, new float[7]);
        RmsNormRef.Backward(x, w, rstd, dY, without, []);
        Assert.Equal(withWeight, without);
    }
}
