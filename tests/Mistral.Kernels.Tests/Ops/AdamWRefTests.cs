using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class AdamWRefTests
{
    [Fact]
    public void Step_TwoSteps_HandChecked()
    {
        // lr 0.1, wd 0.01, β (0.9, 0.999), eps 1e-8; g1 = 0.5, g2 = −0.25, p0 = 1.
        // step 1: p = 0.999; m = 0.05; v = 0.00025; m̂ = 0.5, sqrt(v̂) = 0.5 -> p = 0.999 − 0.1·0.5/0.50000001 = 0.899000002
        // step 2: p = 0.898101002; m = 0.045 − 0.025 = 0.02; v = 0.00024975 + 0.0000625 = 0.00031225
        //         p −= (0.1/0.19) · 0.02 / (sqrt(0.00031225)/sqrt(0.001999) + 1e-8) = 0.026633703 -> 0.871467299
        float[] p = [1f], m = [0f], v = [0f];
        AdamWRef.Step(p, [0.5f], m, v, new AdamWStepArgs(0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, Step: 1));
        Assert.Equal(0.899000002, p[0], 1e-6);
        Assert.Equal(0.05, m[0], 1e-8);
        Assert.Equal(0.00025, v[0], 1e-10);
        AdamWRef.Step(p, [-0.25f], m, v, new AdamWStepArgs(0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, Step: 2));
        Assert.Equal(0.8714672987, p[0], 1e-6);
        Assert.Equal(0.02, m[0], 1e-8);
        Assert.Equal(0.00031225, v[0], 1e-10);
    }

    [Fact]
    public void Step_GradScale_MultipliesTheGradientFirst()
    {
        // A gradient of 4 scaled by 0.125 is the gradient 0.5 of the test above: same first step.
        float[] p = [1f], m = [0f], v = [0f];
        AdamWRef.Step(p, [4f], m, v, new AdamWStepArgs(0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, Step: 1, GradScale: 0.125f));
        Assert.Equal(0.899000002, p[0], 1e-6);
        Assert.Equal(0.05, m[0], 1e-8);
    }

    [Fact]
    public void Step_ZeroGradient_OnlyDecays()
    {
        float[] p = [2f, -4f], m = [0f, 0f], v = [0f, 0f];
        AdamWRef.Step(p, [0f, 0f], m, v, new AdamWStepArgs(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, Step: 1));
        Assert.Equal(2 * (1 - 1e-4), p[0], 1e-7);   // p · (1 − lr·wd); the update is 0 / (0 + eps) = 0
        Assert.Equal(-4 * (1 - 1e-4), p[1], 1e-7);
    }
}
