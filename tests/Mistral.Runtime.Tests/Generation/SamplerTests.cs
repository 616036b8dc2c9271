using Mistral.Runtime.Generation;
using Xunit;

namespace Mistral.Runtime.Tests.Generation;

public class SamplerTests
{
    // Probabilities chosen so that no filter boundary sits on a rounding edge.
    private static readonly double[] FiveWay = [0.5, 0.2, 0.15, 0.1, 0.05];
    private static float[] LogitsOf(double[] probs) => probs.Select(p => (float)Math.Log(p)).ToArray();

    private const double ProbTolerance = 1e-6; // fp32 logits of these probabilities round-trip to ~1e-7

    [Fact]
    public void Greedy_PicksArgmax_LowestIdOnTies()
    {
        var sampler = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(2, sampler.Sample([0.1f, -3f, 7f, 1f], []));
        Assert.Equal(1, sampler.Sample([0f, 5f, 5f, 5f], []));
    }

    [Fact]
    public void SameSeed_SameTokens_DifferentSeedOrStream_DifferentTokens()
    {
        var logits = LogitsOf([0.25, 0.25, 0.2, 0.15, 0.15]);
        int[] Draw(ulong seed, int stream)
        {
            var s = new Sampler(new SamplingOptions(Temperature: 1f, Seed: seed), stream);
            return Enumerable.Range(0, 64).Select(_ => s.Sample(logits, [])).ToArray();
        }
        Assert.Equal(Draw(42, 0), Draw(42, 0));
        Assert.NotEqual(Draw(42, 0), Draw(43, 0));
        Assert.NotEqual(Draw(42, 0), Draw(42, 1));
    }

    [Fact]
    public void Temperature_ReshapesDistribution()
    {
        // softmax(log p / T) ∝ p^(1/T); T = 2 gives ∝ sqrt(p).
        var dist = new Sampler(new SamplingOptions(Temperature: 2f)).Distribution(LogitsOf(FiveWay), []);
        double norm = FiveWay.Sum(Math.Sqrt);
        Assert.Equal(5, dist.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(i, dist[i].Token);
            Assert.Equal(Math.Sqrt(FiveWay[i]) / norm, dist[i].Probability, ProbTolerance);
        }
    }

    [Fact]
    public void TopK_KeepsKMostLikely_Renormalised()
    {
        var dist = new Sampler(new SamplingOptions(Temperature: 1f, TopK: 2)).Distribution(LogitsOf(FiveWay), []);
        Assert.Equal([0, 1], dist.Select(d => d.Token));
        Assert.Equal(0.5 / 0.7, dist[0].Probability, ProbTolerance);
        Assert.Equal(0.2 / 0.7, dist[1].Probability, ProbTolerance);
    }

    [Theory]
    [InlineData(0.45f, new[] { 0 })]          // mass before token 1 is 0.5 > 0.45
    [InlineData(0.6f, new[] { 0, 1 })]        // before token 2: 0.7 > 0.6
    [InlineData(0.75f, new[] { 0, 1, 2 })]    // before token 3: 0.85 > 0.75
    [InlineData(0.99f, new[] { 0, 1, 2, 3, 4 })]
    public void TopP_KeepsTokensWhoseMassBeforeThemIsAtMostP(float topP, int[] expected)
    {
        var dist = new Sampler(new SamplingOptions(Temperature: 1f, TopP: topP)).Distribution(LogitsOf(FiveWay), []);
        Assert.Equal(expected, dist.Select(d => d.Token));
        double kept = expected.Sum(i => FiveWay[i]);
        Assert.Equal(FiveWay[0] / kept, dist[0].Probability, ProbTolerance);
    }

    [Fact]
    public void TopP_AppliesToMassLeftByTopK()
    {
        // After top-k 3 the kept mass is 0.85; 0.6 of it is 0.51, and the mass before token 1 (0.5) is below that.
        var dist = new Sampler(new SamplingOptions(Temperature: 1f, TopK: 3, TopP: 0.6f)).Distribution(LogitsOf(FiveWay), []);
        Assert.Equal([0, 1], dist.Select(d => d.Token));
    }

    [Theory]
    [InlineData(0.35f, new[] { 0, 1 })]       // floor 0.175
    [InlineData(0.25f, new[] { 0, 1, 2 })]    // floor 0.125
    [InlineData(0.9f, new[] { 0 })]
    public void MinP_KeepsTokensAtLeastMinPTimesTheBest(float minP, int[] expected)
    {
        var dist = new Sampler(new SamplingOptions(Temperature: 1f, MinP: minP)).Distribution(LogitsOf(FiveWay), []);
        Assert.Equal(expected, dist.Select(d => d.Token));
    }

    [Fact]
    public void Sample_FrequenciesFollowDistribution()
    {
        double[] probs = [0.5, 0.3, 0.2];
        var sampler = new Sampler(new SamplingOptions(Temperature: 1f, Seed: 7));
        var logits = LogitsOf(probs);
        var counts = new int[3];
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logits, [])]++;
        // Binomial standard deviation at 20000 draws is <= 0.0036; 0.015 is four of them.
        for (int i = 0; i < 3; i++) Assert.Equal(probs[i], counts[i] / (double)draws, 0.015);
    }

    [Fact]
    public void RepetitionPenalty_DividesPositiveMultipliesNegative_OncePerToken()
    {
        float[] logits = [2f, 1.5f, -1f, 0.5f];
        Sampler.ApplyRepetitionPenalty(logits, [0, 2], 2f);
        Assert.Equal([1f, 1.5f, -2f, 0.5f], logits);

        // Token 0 repeated in the history is still penalised once: 2 / 2 = 1 < 1.5, so greedy now picks token 1.
        var sampler = new Sampler(new SamplingOptions(RepetitionPenalty: 2f));
        Assert.Equal(1, sampler.Sample([2f, 1.5f, -1f], [0, 0, 0]));
    }

    [Fact]
    public void RepetitionPenalty_OnlyLooksAtTheWindow()
    {
        // Token 0 is outside the last 2 tokens, so it keeps its lead.
        var sampler = new Sampler(new SamplingOptions(RepetitionPenalty: 2f, RepetitionWindow: 2));
        Assert.Equal(0, sampler.Sample([2f, 1.5f, -1f], [0, 2, 2]));
    }

    [Theory]
    [InlineData(-1f, 0, 1f, 0f, 1f)]
    [InlineData(1f, -1, 1f, 0f, 1f)]
    [InlineData(1f, 0, 0f, 0f, 1f)]
    [InlineData(1f, 0, 1.5f, 0f, 1f)]
    [InlineData(1f, 0, 1f, -0.1f, 1f)]
    [InlineData(1f, 0, 1f, 0f, 0f)]
    [InlineData(float.NaN, 0, 1f, 0f, 1f)]
    public void Options_OutOfRange_Throw(float temperature, int topK, float topP, float minP, float penalty)
    {
        var options = new SamplingOptions(temperature, topK, topP, minP, penalty);
        Assert.Throws<ArgumentException>(() => new Sampler(options));
    }

    [Fact]
    public void LogProb_IsLogitMinusLogSumExp()
    {
        float[] logits = [1f, 2f, 3f];
        double lse = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        Assert.Equal(2 - lse, LogSoftmax.LogProb(logits, 1), 1e-6);
        // A large offset must not overflow.
        Assert.Equal(2 - lse, LogSoftmax.LogProb([1001f, 1002f, 1003f], 1), 1e-4);
    }
}
