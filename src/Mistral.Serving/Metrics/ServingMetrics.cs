using System.Collections.Concurrent;
using System.Text;

namespace Mistral.Serving.Metrics;

/// <summary>
/// The server's counters, gauges and histograms, rendered as Prometheus text by <see cref="Render"/>. The HTTP layer
/// counts requests by status; the scheduler counts tokens, observes latencies and reports its queue and batch.
/// </summary>
public sealed class ServingMetrics
{
    private const string Prefix = "mistral_cu_";
    private static readonly double[] LatencyBounds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<int, long> _requestsByStatus = new();
    private long _promptTokens, _generatedTokens;

    public Histogram TimeToFirstToken { get; } = new(Prefix + "time_to_first_token_seconds", "Seconds from a request's arrival to its first generated token.", LatencyBounds);
    public Histogram TimePerOutputToken { get; } = new(Prefix + "time_per_output_token_seconds", "Seconds between consecutive generated tokens of a sequence.", LatencyBounds);

    /// <summary>Read at render time: sequences waiting for a row, and sequences holding one.</summary>
    public Func<int> QueueDepth { get; set; } = () => 0;
    public Func<int> RunningBatch { get; set; } = () => 0;

    public long PromptTokens => Interlocked.Read(ref _promptTokens);
    public long GeneratedTokens => Interlocked.Read(ref _generatedTokens);

    public void CountRequest(int status) => _requestsByStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
    public void CountPromptTokens(int n) => Interlocked.Add(ref _promptTokens, n);
    public void CountGeneratedToken() => Interlocked.Increment(ref _generatedTokens);

    public string Render()
    {
        var text = new StringBuilder();
        Header(text, "requests_total", "HTTP requests answered, by status code.", "counter");
        foreach (var (status, count) in _requestsByStatus.OrderBy(p => p.Key))
            text.Append(Prefix).Append("requests_total{status=\"").Append(status).Append("\"} ").Append(count).Append('\n');
        Scalar(text, "prompt_tokens_total", "Prompt tokens prefilled.", "counter", PromptTokens);
        Scalar(text, "generation_tokens_total", "Tokens generated.", "counter", GeneratedTokens);
        Scalar(text, "queue_depth", "Sequences waiting for a cache row.", "gauge", QueueDepth());
        Scalar(text, "running_batch_size", "Sequences holding a cache row (prefilling or decoding).", "gauge", RunningBatch());
        TimeToFirstToken.WriteTo(text);
        TimePerOutputToken.WriteTo(text);
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string help, string type) =>
        text.Append("# HELP ").Append(Prefix).Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(Prefix).Append(name).Append(' ').Append(type).Append('\n');

    private static void Scalar(StringBuilder text, string name, string help, string type, long value)
    {
        Header(text, name, help, type);
        text.Append(Prefix).Append(name).Append(' ').Append(value).Append('\n');
    }
}
