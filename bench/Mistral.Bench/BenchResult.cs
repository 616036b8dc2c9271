namespace Mistral.Bench;

/// <summary>One llama-bench row: a test such as "pp 512", "tg 128" or "tg 128 @ 4096" and its tokens/second over the repetitions.</summary>
public sealed record BenchResult(string Model, long Parameters, string Device, string Test, IReadOnlyList<double> TokensPerSecond)
{
    public double Mean => TokensPerSecond.Average();

    public double StdDev
    {
        get
        {
            if (TokensPerSecond.Count < 2) return 0;
            double mean = Mean;
            return Math.Sqrt(TokensPerSecond.Sum(x => (x - mean) * (x - mean)) / (TokensPerSecond.Count - 1));
        }
    }

    public const string Header = "| model                |     params | device | test            |              t/s |\n" +
                                 "| -------------------- | ---------: | ------ | --------------- | ---------------: |";

    public override string ToString() =>
        $"| {Model,-20} | {FormatCount(Parameters),10} | {Device,-6} | {Test,-15} | {Mean,9:F2} ± {StdDev,5:F2} |";

    private static string FormatCount(long n) => n >= 1_000_000_000 ? $"{n / 1e9:F2} B" : n >= 1_000_000 ? $"{n / 1e6:F2} M" : $"{n / 1e3:F2} K";
}
