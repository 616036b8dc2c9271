namespace Mistral.Runtime.Evaluation;

/// <summary>
/// A strided perplexity evaluation: <see cref="Loss"/> is the token-weighted mean cross-entropy (nats) over every
/// scored token, <see cref="TokenLosses"/> each scored token's CE in stream order. Tokens per second count the scored
/// tokens over the time spent in forwards and scoring.
/// </summary>
public sealed record PerplexityResult(
    int TokenCount, int MaxLength, int Stride, int Windows, long TokensForwarded, float[] TokenLosses, double Loss, TimeSpan Elapsed)
{
    public long TokensScored => TokenLosses.LongLength;
    public double Perplexity => Math.Exp(Loss);
    public double TokensPerSecond => Elapsed > TimeSpan.Zero ? TokensScored / Elapsed.TotalSeconds : double.NaN;
}
