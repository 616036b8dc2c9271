using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class LayerNormRefTests
{
    public static TheoryData<string> LayerNormCasesData => new(LayerNormCases.Names);

    // Two fp32 sums of up to 4097 terms of O(3) then a few multiplies, against fp64: relative error ~ a few 1e-7;
    // the absolute part covers outputs that cancel to near zero (y = n·w + b crosses 0).
    private const double Abs = 2e-6, Rel = 2e-6;

    [Fact]
    public void Forward_HandChecked()
    {
        // x = [1, 2, 3, 4]: mean 2.5, biased var (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, eps 0 -> rstd = 1/sqrt(1.25)
        // = 0.89442719; n = [−1.3416408, −0.4472136, 0.4472136, 1.3416408]; weight [1, 2, 1, 1], bias [0, 0, 1, −1].
        var y = new float[4];
        var mean = new float[1];
        var rstd = new float[1];
        LayerNormRef.Forward([1, 2, 3, 4], [1, 2, 1, 1], [0, 0, 1, -1], 0f, y, mean, rstd);
        TensorAssert.Close([-1.3416408f, -0.8944272f, 1.4472136f, 0.3416408f], y, 1e-6, 0, "y");
        Assert.Equal(2.5f, mean[0]);
        TensorAssert.Close([0.89442719f], rstd, 1e-7, 0, "rstd");
    }

    [Fact]
    public void Forward_OneFeature_GivesTheBias()
    {
        // D = 1: the row is its own mean, so n = 0 and y = bias; rstd = 1/sqrt(eps).
        var y = new float[2];
        var rstd = new float[2];
        LayerNormRef.Forward([5f, -7f], [3f], [0.25f], 1e-4f, y, new float[2], rstd);
        Assert.Equal([0.25f, 0.25f], y);
        TensorAssert.Close([100f, 100f], rstd, 1e-3, 0, "rstd");
    }

    [Theory]
    [MemberData(nameof(LayerNormCasesData))]
    public void Forward_Cases_MatchFp64(string name)
    {
        var c = LayerNormCases.Get(name);
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var expected = new float[rows * dim];
        var expectedMean = new float[rows];
        var expectedRstd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double m = 0, v = 0;
            for (int d = 0; d < dim; d++) m += data.X[r * dim + d];
            m /= dim;
            for (int d = 0; d < dim; d++) v += (data.X[r * dim + d] - m) * (data.X[r * dim + d] - m);
            double s = 1 / Math.Sqrt(v / dim + eps);
            (expectedMean[r], expectedRstd[r]) = ((float)m, (float)s);
            for (int d = 0; d < dim; d++) expected[r * dim + d] = (float)((data.X[r * dim + d] - m) * s * data.Weight[d] + data.Bias[d]);
        }
        var y = new float[rows * dim];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNormRef.Forward(data.X, data.Weight, data.Bias, eps, y, mean, rstd);
        TensorAssert.Close(expected, y, Abs, Rel, "y");
        TensorAssert.Close(expectedMean, mean, Abs, Rel, "mean");
        TensorAssert.Close(expectedRstd, rstd, 0, Rel, "rstd");
    }

    [Fact]
    public void Forward_InPlace_EqualsOutOfPlace()
    {
        var rng = new CaseRandom(5);
        var x = rng.Normal(3 * 17);
        var (w, b) = (rng.Normal(17), rng.Normal(17));
        var y = new float[x.Length];
        LayerNormRef.Forward(x, w, b, 1e-5f, y, [], []);
        LayerNormRef.Forward(x, w, b, 1e-5f, x, [], []);
        Assert.Equal(y, x);
    }

    // fp32 analytic gradients of O(1) values vs fp64 central differences (error ≪ 1e-9): fp32 rounding of sums of
    // ≤ 65 products dominates, a few 1e-7 relative.
    private const double GradAbs = 2e-6, GradRel = 1e-5;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(3, 5)]
    [InlineData(4, 65)]
    public void Backward_MatchesFiniteDifferences(int rows, int dim)
    {
        var rng = new CaseRandom(rows * 100 + dim);
        var x = rng.Normal(rows * dim).Select(v => v + 1f).ToArray();
        var w = rng.Uniform(dim, 0.5f, 1.5f);
        var b = rng.Normal(dim);
        var dY = rng.Normal(rows * dim);
        const float eps = 1e-3f;   // not negligible next to var(x) for dim 2, so its place in the formula is tested too

        var (mean, rstd) = (new float[rows], new float[rows]);
        LayerNormRef.Forward(x, w, b, eps, new float[x.Length], mean, rstd);
        var dX = Enumerable.Repeat(float.NaN, x.Length).ToArray();   // overwritten, not accumulated
        var dW = Enumerable.Repeat(0.25f, dim).ToArray();              // += : starts from 0.25
        var dB = Enumerable.Repeat(-0.5f, dim).ToArray();              // += : starts from −0.5
        LayerNormRef.Backward(x, w, mean, rstd, dY, dX, dW, dB);

        var dYd = FiniteDifference.ToDouble(dY);
        double Loss(double[] xs, double[] ws, double[] bs)
        {
            var y = new double[xs.Length];
            for (int r = 0; r < rows; r++)
            {
                double m = 0, v = 0;
                for (int d = 0; d < dim; d++) m += xs[r * dim + d];
                m /= dim;
                for (int d = 0; d < dim; d++) v += (xs[r * dim + d] - m) * (xs[r * dim + d] - m);
                double s = 1 / Math.Sqrt(v / dim + eps);
                for (int d = 0; d < dim; d++) y[r * dim + d] = (xs[r * dim + d] - m) * s * ws[d] + bs[d];
            }
            return FiniteDifference.Dot(dYd, y);
        }
        var (xd, wd, bd) = (FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(w), FiniteDifference.ToDouble(b));
        var expectedDx = FiniteDifference.Gradient(xs => Loss(xs, wd, bd), xd);
        var expectedDw = FiniteDifference.Gradient(ws => Loss(xd, ws, bd), wd).Select(g => g + 0.25).ToArray();
        var expectedDb = FiniteDifference.Gradient(bs => Loss(xd, wd, bs), bd).Select(g => g - 0.5).ToArray();
        TensorAssert.Close(FiniteDifference.ToSingle(expectedDx), dX, GradAbs, GradRel, "dX");
        TensorAssert.Close(FiniteDifference.ToSingle(expectedDw), dW, GradAbs, GradRel, "dWeight");
        TensorAssert.Close(FiniteDifference.ToSingle(expectedDb), dB, GradAbs, GradRel, "dBias");
    }

    [Fact]
    public void Backward_NoParameterGradients_StillComputesDx()
    {
        var rng = new CaseRandom(3);
        var x = rng.Normal(2 * 7);
        var (w, b) = (rng.Normal(7), rng.Normal(7));
        var dY = rng.Normal(2 * 7);
        var (mean, rstd) = (new float[2], new float[2]);
        LayerNormRef.Forward(x, w, b, 1e-5f, new float[x.Length], mean, rstd);
        var withParameters = new float[x.Length];
        var without = new float[x.Length];
        LayerNormRef.Backward(x, w, mean, rstd, dY, withParameters, new float[7], new float[7]);
        LayerNormRef.Backward(x, w, mean, rstd, dY, without, [], []);
        Assert.Equal(withParameters, without);
    }
}
