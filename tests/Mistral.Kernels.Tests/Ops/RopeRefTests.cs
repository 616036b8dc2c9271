using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class RopeRefTests
{
    public static TheoryData<string> RopeCasesData => new(RopeCases.Names);

    // cos/sin of the same fp32 angle may differ by an ulp between libms: 1 ulp of values ≤ 1 is 6e-8.
    private const double TableAbs = 2e-7;

    [Fact]
    public void CosSin_MatchFixtureTables()
    {
        // The tiny model: head_dim 16, theta 1e4; rope.cos/sin [14, 8] for positions 0..13.
        var path = Path.Combine(Fixtures.TinyReference, "forward_debug.safetensors");
        using var file = SafeTensorsFile.Open(path);
        var cos = file["rope.cos"].ToFloat32();
        var sin = file["rope.sin"].ToFloat32();
        Assert.Equal([14, 8], file["rope.cos"].Shape.Dims.ToArray());
        var invFreq = new float[8];
        RopeRef.InverseFrequencies(16, 10000f, invFreq);
        var actualCos = new float[14 * 8];
        var actualSin = new float[14 * 8];
        for (int p = 0; p < 14; p++)
            for (int i = 0; i < 8; i++)
                (actualCos[p * 8 + i], actualSin[p * 8 + i]) = RopeRef.CosSin(p, invFreq[i]);
        TensorAssert.Close(cos, actualCos, TableAbs, 0, "rope.cos");
        TensorAssert.Close(sin, actualSin, TableAbs, 0, "rope.sin");
    }

    [Fact]
    public void Forward_HandChecked()
    {
        // head_dim 4, theta 100: inv_freq = [1, 100^(-1/2)] = [1, 0.1].
        // position 2: pair 0 rotates by 2 rad, pair 1 by 0.2 rad; x = [1, 0, 0, 1]
        //   pair 0: (1, 0) -> (cos 2, sin 2) = (−0.41614684, 0.90929743)
        //   pair 1: (0, 1) -> (−sin 0.2, cos 0.2) = (−0.19866933, 0.98006658)
        var y = new float[4];
        RopeRef.Forward([1, 0, 0, 1], [2], 4, 100f, y);
        TensorAssert.Close([-0.41614684f, 0.90929743f, -0.19866933f, 0.98006658f], y, 1e-6, 0, "y");
    }

    [Fact]
    public void Forward_PositionZero_IsIdentity()
    {
        var x = new CaseRandom(1).Normal(2 * 16);
        var y = new float[x.Length];
        RopeRef.Forward(x, [0], 16, 10000f, y);
        Assert.Equal(x, y);
    }

    [Theory]
    [MemberData(nameof(RopeCasesData))]
    public void Forward_Cases_MatchFp64Rotation(string name)
    {
        var c = RopeCases.Get(name);
        var (tokens, heads, headDim, theta) = (c.Tokens, c.Heads, c.HeadDim, c.Theta);
        var data = c.Build();
        var (x, positions) = (data.X, data.Positions);
        var y = new float[x.Length];
        RopeRef.Forward(x, positions, headDim, theta, y);
        var expected = new float[x.Length];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < headDim / 2; i++)
                {
                    // The angle in fp32 exactly as the reference forms it; the rotation in fp64.
                    float invFreq = 1f / MathF.Pow(theta, (float)(2 * i) / headDim);
                    double angle = positions[t] * invFreq;
                    int at = (t * heads + h) * headDim + 2 * i;
                    double x0 = x[at], x1 = x[at + 1];
                    expected[at] = (float)(x0 * Math.Cos(angle) - x1 * Math.Sin(angle));
                    expected[at + 1] = (float)(x0 * Math.Sin(angle) + x1 * Math.Cos(angle));
                }
        // |angle| up to 32768 rad: fp32 cos/sin of the same fp32 angle agree with fp64 to ~1e-7; values are N(0,1).
        TensorAssert.Close(expected, y, 2e-6, 1e-6, "y");
    }

    [Fact]
    public void Backward_UndoesForward()
    {
        var rng = new CaseRandom(9);
        var x = rng.Normal(7 * 3 * 8);
        var positions = rng.Ints(7, 100);
        var y = new float[x.Length];
        RopeRef.Forward(x, positions, 8, 10000f, y);
        RopeRef.Backward(y, positions, 8, 10000f, y);   // in place: dX may be dY
        TensorAssert.Close(x, y, 1e-6, 0, "rotate(−θ) ∘ rotate(θ)");
    }

    [Fact]
    public void Backward_MatchesFiniteDifferences()
    {
        // RoPE is linear in x, so the finite differences of Σ dY·rope(x) are exact up to fp64 rounding: they give Jᵀ·dY.
        const int tokens = 3, width = 12, headDim = 6;
        var rng = new CaseRandom(21);
        var x = rng.Normal(tokens * width);
        var dY = rng.Normal(tokens * width);
        int[] positions = [0, 7, 4093];
        const float theta = 500f;
        var dX = new float[x.Length];
        RopeRef.Backward(dY, positions, headDim, theta, dX);

        var dYd = FiniteDifference.ToDouble(dY);
        double Loss(double[] xs)
        {
            var y = new double[xs.Length];
            for (int t = 0; t < tokens; t++)
                for (int at = t * width; at < (t + 1) * width; at += 2)
                {
                    int i = (at % headDim) / 2;
                    double angle = positions[t] * (1f / MathF.Pow(theta, (float)(2 * i) / headDim));   // fp32 angle, as the reference
                    y[at] = xs[at] * Math.Cos(angle) - xs[at + 1] * Math.Sin(angle);
                    y[at + 1] = xs[at] * Math.Sin(angle) + xs[at + 1] * Math.Cos(angle);
                }
            return FiniteDifference.Dot(dYd, y);
        }
        var expected = FiniteDifference.Gradient(Loss, FiniteDifference.ToDouble(x));
        TensorAssert.Close(FiniteDifference.ToSingle(expected), dX, 2e-6, 1e-6, "dX");
    }
}
