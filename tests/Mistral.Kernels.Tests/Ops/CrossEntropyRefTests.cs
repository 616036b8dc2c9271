using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class CrossEntropyRefTests
{
    [Fact]
    public void Forward_HandChecked()
    {
        // row 0: uniform over 3 -> CE = ln 3 = 1.0986123
        // row 1: [1, 2, 3], target 0 -> logsumexp = 3 + ln(e^-2 + e^-1 + 1) = 3.4076060, CE = 2.4076060
        float[] logits = [0, 0, 0, 1, 2, 3];
        var losses = new float[2];
        double total = CrossEntropyRef.Forward(logits, [2, 0], [0.5f, 2f], 3, losses);
        TensorAssert.Close([1.0986123f, 2.4076060f], losses, 1e-6, 0, "losses");
        Assert.Equal(0.5 * 1.0986122887 + 2 * 2.4076059644, total, 1e-6);   // 5.3645181
    }

    [Fact]
    public void Forward_HugeLogits_StaysFinite()
    {
        // Without the max subtraction exp(1000) overflows. CE(target 0) = ln(1 + e^-1000 + e^-2000) ≈ 0, CE(target 1) = 1000.
        float[] logits = [1000, 0, -1000, 1000, 0, -1000];
        var losses = new float[2];
        double total = CrossEntropyRef.Forward(logits, [0, 1], [1f, 0f], 3, losses);
        Assert.Equal([0f, 1000f], losses);
        Assert.Equal(0.0, total);   // the masked row contributes nothing
    }

    [Fact]
    public void Backward_HandChecked()
    {
        // softmax of a uniform row is 1/3 each; (p − onehot(2)) · w · scale with w·scale = 0.5 · 2 = 1
        float[] logits = [0, 0, 0];
        var dLogits = new float[3];
        CrossEntropyRef.Backward(logits, [2], [0.5f], 3, 2f, dLogits);
        TensorAssert.Close([1f / 3, 1f / 3, -2f / 3], dLogits, 1e-7, 0, "dLogits");
    }

    [Fact]
    public void Backward_ZeroWeight_GivesZeroGradient()
    {
        var dLogits = new float[3];
        CrossEntropyRef.Backward([5, -1, 2], [1], [0f], 3, 1f, dLogits);
        Assert.Equal([0f, 0f, 0f], dLogits);
    }
}
