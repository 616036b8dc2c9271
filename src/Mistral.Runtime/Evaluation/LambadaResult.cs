namespace Mistral.Runtime.Evaluation;

/// <summary>
/// A LAMBADA-style evaluation: an example is correct when every target token is the greedy choice (argmax) given
/// the context and the target tokens before it; <see cref="Loss"/> is the mean CE (nats) over all target tokens
/// (token-weighted). <see cref="Truncated"/> counts examples whose context lost tokens on the left to fit the
/// maximum length. <see cref="PerExample"/> holds each example's correctness and summed target CE, in file order.
/// </summary>
public sealed record LambadaResult(int MaxLength, IReadOnlyList<(bool Correct, double LossSum, int TargetTokens)> PerExample,
    int Truncated, long TokensForwarded, TimeSpan Elapsed)
{
    public int Examples => PerExample.Count;
    public int Correct => PerExample.Count(e => e.Correct);
    public double Accuracy => (double)Correct / Examples;
    public long TargetTokens => PerExample.Sum(e => (long)e.TargetTokens);
    public double Loss => PerExample.Sum(e => e.LossSum) / TargetTokens;
    public double Perplexity => Math.Exp(Loss);
    public double ExamplesPerSecond => Elapsed > TimeSpan.Zero ? Examples / Elapsed.TotalSeconds : double.NaN;
}
