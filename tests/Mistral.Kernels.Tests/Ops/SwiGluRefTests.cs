using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class SwiGluRefTests
{
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
}
