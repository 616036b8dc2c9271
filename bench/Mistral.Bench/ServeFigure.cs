namespace Mistral.Bench;

/// <summary>One row of `bench serve`: a fixed number of streamed completions at a concurrency, and what they achieved.</summary>
public sealed record ServeFigure(int Concurrency, int Requests, TimeSpan Elapsed, long GeneratedTokens, IReadOnlyList<double> TimesToFirstToken)
{
    public const string Header = "| concurrency | requests |    req/s |  gen tok/s | TTFT p50 ms | TTFT p99 ms |\n" +
                                 "| ----------: | -------: | -------: | ---------: | ----------: | ----------: |";

    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
    public double TokensPerSecond => GeneratedTokens / Elapsed.TotalSeconds;

    /// <summary>Nearest-rank percentile of the times to first token, in seconds.</summary>
    public double TtftPercentile(double p)
    {
        var sorted = TimesToFirstToken.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public override string ToString() =>
        $"| {Concurrency,11} | {Requests,8} | {RequestsPerSecond,8:F2} | {TokensPerSecond,10:F1} | {TtftPercentile(50) * 1e3,11:F1} | {TtftPercentile(99) * 1e3,11:F1} |";
}
