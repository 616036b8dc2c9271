using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>GeluRef against known values of erf and Φ and against finite differences; its fixture checks are in
/// <see cref="Gpt2FixtureOpsTests"/>.</summary>
public class GeluRefTests
{
    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(4.0, 0.9999999845827421)]
    [InlineData(-1.0, -0.8427007929497149)]
    [InlineData(0.0, 0.0)]
    public void Erf_KnownValues(double z, double expected) => Assert.Equal(expected, GeluRef.Erf(z), 1e-14);

    [Theory]
    [InlineData(1f, 0.8413447460685429)]       // x·Φ(x): Φ(1) = 0.8413447460685429
    [InlineData(-1f, -0.15865525393145707)]    // −Φ(−1)
    [InlineData(2f, 1.9544997361036416)]       // 2·Φ(2) = 2·0.9772498680518208
    [InlineData(-3f, -0.0040496940948904)]     // −3·Φ(−3) = −3·0.0013498980316301
    [InlineData(0f, 0.0)]
    public void Forward_Erf_IsXTimesNormalCdf(float x, double expected)
    {
        var y = new float[1];
        GeluRef.Forward([x], GeluApproximation.Erf, y);
        Assert.Equal(expected, y[0], 3e-7);   // a few fp32 ulps of values ≤ 2
    }

    // fp32 derivative of O(1) values vs fp64 central differences of an fp64 GELU (Math.Tanh and the fp64 erf): the
    // fp32 evaluation of tanh/erf/exp and a few products, ~1e-7 relative; 1 − t² cancels in the tails, where the
    // derivative itself is tiny (absolute part).
    private const double GradAbs = 1e-6, GradRel = 1e-5;

    [Theory]
    [InlineData(GeluApproximation.Tanh)]
    [InlineData(GeluApproximation.Erf)]
    public void Backward_MatchesFiniteDifferences(GeluApproximation form)
    {
        var x = Enumerable.Range(-60, 121).Select(k => k / 10f).Concat([-9.5f, 7.25f, 1e-3f]).ToArray();
        var dY = new CaseRandom(11).Normal(x.Length);
        var dX = new float[x.Length];
        GeluRef.Backward(x, dY, form, dX);

        var dYd = FiniteDifference.ToDouble(dY);
        double Loss(double[] xs) => FiniteDifference.Dot(dYd, xs.Select(v => Gelu64(v, form)).ToArray());
        var expected = FiniteDifference.Gradient(Loss, FiniteDifference.ToDouble(x));
        TensorAssert.Close(FiniteDifference.ToSingle(expected), dX, GradAbs, GradRel, $"dX ({form})");
    }

    [Fact]
    public void Backward_InPlace_EqualsOutOfPlace()
    {
        var rng = new CaseRandom(4);
        var x = rng.Normal(19, 3f);
        var dY = rng.Normal(19);
        var dX = new float[19];
        GeluRef.Backward(x, dY, GeluApproximation.Tanh, dX);
        GeluRef.Backward(x, dY, GeluApproximation.Tanh, dY);
        Assert.Equal(dX, dY);
    }

    private static double Gelu64(double x, GeluApproximation form) => form == GeluApproximation.Tanh
        ? 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
        : 0.5 * x * (1 + GeluRef.Erf(x / Math.Sqrt(2)));
}
