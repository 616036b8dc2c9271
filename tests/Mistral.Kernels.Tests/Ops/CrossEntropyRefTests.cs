using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class CrossEntropyRefTests
{
    public static TheoryData<string> CrossEntropyCasesData => new(CrossEntropyCases.Names);

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

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 17)]
    [InlineData(5, 130)]
    public void Backward_MatchesFiniteDifferencesOfWeightedLoss(int tokens, int vocab)
    {
        var rng = new CaseRandom(tokens * 1000 + vocab);
        var logits = rng.Normal(tokens * vocab, 4f);
        var targets = rng.Ints(tokens, vocab);
        var weights = rng.Uniform(tokens, 0f, 1f);
        weights[0] = 0f;   // a masked target
        const float scale = 0.37f;
        var dLogits = new float[logits.Length];
        CrossEntropyRef.Backward(logits, targets, weights, vocab, scale, dLogits);

        // loss = scale · Σ_t w_t · (logsumexp(row_t) − row_t[target_t]), in fp64
        double Loss(double[] z)
        {
            double total = 0;
            for (int t = 0; t < tokens; t++)
            {
                var row = z.Skip(t * vocab).Take(vocab).ToArray();
                double max = row.Max();
                double lse = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
                total += weights[t] * (lse - row[targets[t]]);
            }
            return scale * total;
        }
        var expected = FiniteDifference.Gradient(Loss, FiniteDifference.ToDouble(logits));
        // softmax probabilities in fp32 (≤ 1) times w·scale: 1e-7 absolute.
        TensorAssert.Close(FiniteDifference.ToSingle(expected), dLogits, 2e-7, 1e-5, "dLogits");

        // The forward's weighted sum is the same loss.
        var losses = new float[tokens];
        double weighted = CrossEntropyRef.Forward(logits, targets, weights, vocab, losses);
        Assert.Equal(Loss(FiniteDifference.ToDouble(logits)), scale * weighted, 1e-5);
    }

    [Theory]
    [MemberData(nameof(CrossEntropyCasesData))]
    public void ForwardAndBackward_Cases_MatchFp64(string name)
    {
        var c = CrossEntropyCases.Get(name);
        var data = c.Build();
        var losses = new float[c.Tokens];
        double total = CrossEntropyRef.Forward(data.Logits, data.Targets, data.Weights, c.Vocab, losses);
        var dLogits = new float[data.Logits.Length];
        CrossEntropyRef.Backward(data.Logits, data.Targets, data.Weights, c.Vocab, c.Scale, dLogits);

        var expectedLosses = new float[c.Tokens];
        var expectedGrad = new float[data.Logits.Length];
        double expectedTotal = 0;
        for (int t = 0; t < c.Tokens; t++)
        {
            // log-softmax in fp64, written as Σ exp relative to the target's own logit (a different route from max subtraction)
            double target = data.Logits[t * c.Vocab + data.Targets[t]];
            double max = double.NegativeInfinity;
            for (int v = 0; v < c.Vocab; v++) max = Math.Max(max, data.Logits[t * c.Vocab + v]);
            double sum = 0;
            for (int v = 0; v < c.Vocab; v++) sum += Math.Exp(data.Logits[t * c.Vocab + v] - max);
            double ce = max + Math.Log(sum) - target;
            expectedLosses[t] = (float)ce;
            expectedTotal += data.Weights[t] * ce;
            for (int v = 0; v < c.Vocab; v++)
            {
                double p = Math.Exp(data.Logits[t * c.Vocab + v] - max) / sum;
                expectedGrad[t * c.Vocab + v] = (float)((p - (v == data.Targets[t] ? 1 : 0)) * data.Weights[t] * c.Scale);
            }
        }
        // CE values up to ~10³ for the large-logit case: fp32 keeps ~7 digits of the logsumexp.
        TensorAssert.Close(expectedLosses, losses, 2e-5, 2e-6, "losses");
        Assert.Equal(expectedTotal, total, Math.Max(1e-4, Math.Abs(expectedTotal) * 2e-6));
        TensorAssert.Close(expectedGrad, dLogits, 1e-7, 1e-5, "dLogits");
    }
}
