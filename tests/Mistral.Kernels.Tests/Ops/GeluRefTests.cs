using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class GeluRefTests
{
    /// <summary>The tiny-gpt2 fixture's intermediates tolerance (its README: "Logits and intermediates (fp32 compute): abs 1e-4").</summary>
    private const double FixtureAbs = 1e-4;

    /// <summary>The README's "an independent fp32 implementation lands within … 4.8e-7 (intermediates)": a GELU with a
    /// wrong constant (0.0447 for 0.044715 moves y by ~1e-5) would still pass 1e-4, not this.</summary>
    private const double IndependentFp32Abs = 4.8e-7;

    /// <summary>The fixture's CONVENTIONS: on −6…6 the erf form differs from gelu_new "by up to 4.7e-4" (rounded there to two digits).</summary>
    private const double FormsGap = 4.7e-4, FormsGapRounding = 5e-6;

    private static (float[] X, float[] Y) FixtureProbe()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Reference, "forward_debug.safetensors"));
        return (file["probe.gelu_x"].ToFloat32(), file["probe.gelu_y"].ToFloat32());
    }

    [Fact]
    public void Forward_Tanh_MatchesFixtureProbe()
    {
        var (x, expected) = FixtureProbe();
        Assert.Equal(121, x.Length);
        var y = new float[x.Length];
        GeluRef.Forward(x, GeluApproximation.Tanh, y);
        TensorAssert.Close(expected, y, IndependentFp32Abs, 0, "gelu_new(probe.gelu_x)");   // measured 1.5e-7
    }

    [Fact]
    public void Forward_Erf_DiffersFromFixtureProbeByTheDocumentedGap()
    {
        // The probe separates the forms: erf lands within the documented gap of gelu_new, and farther than the
        // fixture tolerance, so a model run with the wrong form is caught by the activation check.
        var (x, tanhForm) = FixtureProbe();
        var y = new float[x.Length];
        GeluRef.Forward(x, GeluApproximation.Erf, y);
        double gap = TensorAssert.MaxAbsDiff(tanhForm, y);
        Assert.InRange(gap, FixtureAbs, FormsGap + FormsGapRounding);   // measured 4.73e-4
    }

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
        var dY = new Testing.Cases.CaseRandom(11).Normal(x.Length);
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
        var rng = new Testing.Cases.CaseRandom(4);
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
