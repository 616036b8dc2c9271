using System.Text;
using System.Text.Json;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// Output must not depend on what shares the batch: each request run alone, then 16 streaming clients at once
/// (8 from the start, 4 joining mid-flight, 4 leaving early); every completed stream, greedy or seeded sampling, equals
/// its solo run token for token and logprob for logprob (fp32 on the CPU: exactly), and every cache row comes back.
/// </summary>
public sealed class BatchingInvarianceTests(TinyServer server) : IClassFixture<TinyServer>
{
    private const string Words = "the quick brown fox jumps over the lazy dog while a llama watches from the hill and thinks about dinner";

    private static string Request(int i)
    {
        string prompt = string.Join(' ', Words.Split(' ').Skip(i % 5).Take(2 + (i * 7) % 17));
        // Every fourth request samples with its own seed: its draws, too, must not depend on the batch.
        string sampling = i % 4 == 1 ? $"\"temperature\": 0.9, \"top_p\": 0.95, \"seed\": {100 + i}" : "\"temperature\": 0";
        return $$"""{"model": "{{TinyServer.ModelName}}", "prompt": {{JsonSerializer.Serialize(prompt)}}, "max_tokens": {{12 + (i * 5) % 23}}, {{sampling}}, "ignore_eos": true, "logprobs": 0, "stream": true}""";
    }

    /// <summary>Streams a request; returns its text and token logprobs (as JSON text, so equality is exact) once done, or after <paramref name="leaveAfter"/> chunks.</summary>
    private async Task<string> RunAsync(string body, int? leaveAfter = null, TaskCompletionSource? reached = null, int reachAt = 0)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var result = new StringBuilder();
        int chunks = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line[6..];
            if (data == "[DONE]") return result.ToString();
            var choice = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0];
            result.Append(choice.GetProperty("text").GetString()).Append('|');
            if (choice.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
                result.Append(choice.GetProperty("logprobs").GetProperty("token_logprobs").GetRawText());
            result.Append('\n');
            if (++chunks == reachAt) reached?.TrySetResult();
            if (chunks == leaveAfter) return "left";    // disposing the response closes the connection
        }
        throw new InvalidOperationException("the stream ended without [DONE]");
    }

    [Fact]
    public async Task SixteenStreamingClients_JoiningAndLeaving_EachCompletedOutputEqualsItsSoloRun()
    {
        var solo = new string[16];
        for (int i = 0; i < 16; i++)
            if (i is < 8 or >= 12) solo[i] = await RunAsync(Request(i));
        Assert.Equal(0, await server.LiveRowsAfterSettlingAsync());

        int peak = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.Host.Scheduler.LiveRows);
                await Task.Delay(2, TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);

        var midFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task<string>[16];
        for (int i = 0; i < 8; i++) tasks[i] = RunAsync(Request(i), reached: i == 0 ? midFlight : null, reachAt: 4);
        for (int i = 8; i < 12; i++) tasks[i] = RunAsync(Request(i), leaveAfter: 2 + i % 4);          // leave early
        await midFlight.Task;
        for (int i = 12; i < 16; i++) tasks[i] = RunAsync(Request(i));                                // join mid-flight
        var results = await Task.WhenAll(tasks);
        watching.Cancel();
        await watcher;

        for (int i = 0; i < 16; i++)
            if (i is < 8 or >= 12) Assert.True(solo[i] == results[i], $"request {i} differs from its solo run:\nsolo:\n{solo[i]}\nbatched:\n{results[i]}");
        Assert.All(results[8..12], r => Assert.Equal("left", r));
        Assert.Equal(0, await server.LiveRowsAfterSettlingAsync());
        Assert.True(peak >= 8, $"at most {peak} sequences ran at once: the test did not batch");
    }
}
