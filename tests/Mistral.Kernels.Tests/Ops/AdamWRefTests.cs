using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class AdamWRefTests
{
    public static TheoryData<string> AdamWCasesData => new(AdamWCases.Names);

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

    [Theory]
    [MemberData(nameof(AdamWCasesData))]
    public void Step_Cases_MatchFp64Formula(string name)
    {
        var c = AdamWCases.Get(name);
        var data = c.Build();
        var (p, m, v) = ((float[])data.Param.Clone(), new float[c.Length], new float[c.Length]);
        var (pd, md, vd) = (FiniteDifference.ToDouble(data.Param), new double[c.Length], new double[c.Length]);
        var a = c.Args;
        for (int step = 1; step <= c.Steps; step++)
        {
            AdamWRef.Step(p, data.Grads[step - 1], m, v, a with { Step = step });
            double lr = (double)(decimal)a.LearningRate, b1 = (double)(decimal)a.Beta1, b2 = (double)(decimal)a.Beta2;
            for (int i = 0; i < c.Length; i++)
            {
                double g = data.Grads[step - 1][i] * (double)a.GradScale;
                pd[i] *= 1 - lr * (double)(decimal)a.WeightDecay;
                md[i] = b1 * md[i] + (1 - b1) * g;
                vd[i] = b2 * vd[i] + (1 - b2) * g * g;
                pd[i] -= lr / (1 - Math.Pow(b1, step)) * md[i] / (Math.Sqrt(vd[i]) / Math.Sqrt(1 - Math.Pow(b2, step)) + a.Eps);
            }
        }
        // Each step moves p by at most ~lr; fp32 rounding of p (|p| ~ 1) and of m/sqrt(v) is ~1e-7 per step.
        Mistral.Testing.TensorAssert.Close(FiniteDifference.ToSingle(pd), p, 1e-6, 1e-6, "param");
        Mistral.Testing.TensorAssert.Close(FiniteDifference.ToSingle(md), m, 1e-9, 1e-5, "m");
        Mistral.Testing.TensorAssert.Close(FiniteDifference.ToSingle(vd), v, 1e-12, 1e-5, "v");
    }
}
