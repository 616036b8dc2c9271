namespace Mistral.Bench;

/// <summary>Tokens/second of each measured step, MFU of their mean (null when the peak is unknown), the last loss, peak device memory.</summary>
public sealed record FullTrainBenchResult(string Model, string Device, FullTrainBenchOptions Options, IReadOnlyList<double> TokensPerSecond,
    double? Mfu, double LastLoss, long PeakDeviceBytes)
{
    public override string ToString()
    {
        double mean = TokensPerSecond.Average();
        double sd = TokensPerSecond.Count < 2 ? 0 : Math.Sqrt(TokensPerSecond.Sum(x => (x - mean) * (x - mean)) / (TokensPerSecond.Count - 1));
        return $"train {Model} on {Device}: full-parameter AdamW, {Options.Batch} × {Options.SeqLen} tokens per step: " +
               $"{mean:F1} ± {sd:F1} tok/s, MFU {(Mfu is { } m ? $"{100 * m:F1}%" : "n/a")}, " +
               $"peak device memory {PeakDeviceBytes / (double)(1L << 30):F2} GiB, loss {LastLoss:F4}";
    }
}
