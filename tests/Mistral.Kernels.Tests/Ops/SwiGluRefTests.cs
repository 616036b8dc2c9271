using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class SwiGluRefTests
{
    public static TheoryData<string> SwiGluCasesData => new(SwiGluCases.Names);

    [Fact]
    public void Forward_HandChecked()
    {
        // silu(0) = 0; silu(1) = 1/(1+e^-1) = 0.7310586; silu(-2) = -2/(1+e^2) = -0.23840584; silu(20) ≈ 20
        float[] gate = [0, 1, -2, 20];
        float[] up = [5, 2, 3, 0.5f];
        var y = new float[4];
        SwiGluRef.Forward(gate, up, y);
        TensorAssert.Close([0f, 1.4621172f, -0.7152175f, 10f], y, 1e-6, 1e-6, "y");
    }

    [Fact]
    public void Forward_LargeNegativeGate_IsZeroNotNaN()
    {
        var y = new float[1];
        SwiGluRef.Forward([-200f], [1f], y);   // exp(200) overflows to +inf: silu = -200/inf = -0
        Assert.Equal(0f, y[0]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(2, 65)]
    public void Backward_MatchesFiniteDifferences(int rows, int hidden)
    {
        var rng = new CaseRandom(rows * 10 + hidden);
        var gate = rng.Normal(rows * hidden, 3f);   // reaches the flat tails of the sigmoid too
        var up = rng.Normal(rows * hidden);
        var dY = rng.Normal(rows * hidden);
        var dGate = new float[gate.Length];
        var dUp = new float[up.Length];
        SwiGluRef.Backward(gate, up, dY, dGate, dUp);

        var dYd = FiniteDifference.ToDouble(dY);
        double Loss(double[] g, double[] u) => FiniteDifference.Dot(dYd, g.Select((x, i) => x / (1 + Math.Exp(-x)) * u[i]).ToArray());
        var gd = FiniteDifference.ToDouble(gate);
        var ud = FiniteDifference.ToDouble(up);
        // Each element's gradient is a product of three fp32 factors: a few ulps relative.
        TensorAssert.Close(FiniteDifference.ToSingle(FiniteDifference.Gradient(g => Loss(g, ud), gd)), dGate, 1e-6, 1e-5, "dGate");
        TensorAssert.Close(FiniteDifference.ToSingle(FiniteDifference.Gradient(u => Loss(gd, u), ud)), dUp, 1e-6, 1e-5, "dUp");
    }

    [Theory]
    [MemberData(nameof(SwiGluCasesData))]
    public void ForwardAndBackward_Cases_MatchFp64(string name)
    {
        // The op is element-wise, so each element's derivative is a 1-D central difference of its own fp64 function.
        var data = SwiGluCases.Get(name).Build();
        int n = data.Gate.Length;
        var y = new float[n];
        var dGate = new float[n];
        var dUp = new float[n];
        SwiGluRef.Forward(data.Gate, data.Up, y);
        SwiGluRef.Backward(data.Gate, data.Up, data.DY, dGate, dUp);
        static double F(double g, double u) => g / (1 + Math.Exp(-g)) * u;
        const double h = FiniteDifference.Step;
        var (expectedY, expectedDGate, expectedDUp) = (new float[n], new float[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            double g = data.Gate[i], u = data.Up[i], dy = data.DY[i];
            expectedY[i] = (float)F(g, u);
            expectedDGate[i] = (float)(dy * (F(g + h, u) - F(g - h, u)) / (2 * h));
            expectedDUp[i] = (float)(dy * (F(g, u + h) - F(g, u - h)) / (2 * h));
        }
        TensorAssert.Close(expectedY, y, 1e-6, 1e-5, "y");
        TensorAssert.Close(expectedDGate, dGate, 1e-6, 1e-5, "dGate");
        TensorAssert.Close(expectedDUp, dUp, 1e-6, 1e-5, "dUp");
    }
}
