using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mistral.Bench;

/// <summary>
/// A bounded load test of an OpenAI-compatible server: <c>requests</c> streamed completions (greedy, ignore_eos, so
/// each generates exactly maxTokens), at most <c>concurrency</c> in flight, as clients would send them. It stops by
/// itself; time to first token is measured from sending a request to its first streamed chunk.
/// </summary>
public static class ServeBench
{
    public static async Task<ServeFigure> RunAsync(HttpClient client, string model, string prompt, int maxTokens, int concurrency, int requests, CancellationToken cancel = default)
    {
        if (concurrency <= 0 || requests <= 0) throw new ArgumentException($"bench serve: concurrency and requests must be > 0, got {concurrency} and {requests}");
        var ttft = new List<double>();
        long generated = 0;
        int next = 0;
        var clock = Stopwatch.StartNew();
        async Task Worker()
        {
            while (Interlocked.Increment(ref next) <= requests)
            {
                var (first, tokens) = await OneAsync(client, model, prompt, maxTokens, cancel);
                lock (ttft) ttft.Add(first);
                Interlocked.Add(ref generated, tokens);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, requests)).Select(_ => Worker()));
        return new ServeFigure(concurrency, requests, clock.Elapsed, generated, ttft);
    }

    /// <summary>One streamed completion: seconds to its first chunk, and the completion tokens its usage reports.</summary>
    private static async Task<(double FirstChunk, long Tokens)> OneAsync(HttpClient client, string model, string prompt, int maxTokens, CancellationToken cancel)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model, ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["temperature"] = 0, ["stream"] = true,
            ["ignore_eos"] = true, ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")) };
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"bench serve: the server answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancel)}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        double first = double.NaN;
        long tokens = 0;
        while (await reader.ReadLineAsync(cancel) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (double.IsNaN(first)) first = clock.Elapsed.TotalSeconds;
            var data = line["data: ".Length..];
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                tokens = usage.GetProperty("completion_tokens").GetInt64();
        }
        return (first, tokens);
    }
}
