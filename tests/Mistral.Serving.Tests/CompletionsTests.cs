using System.Text.Json;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Serving.Tests;

public sealed class CompletionsTests(TinyServer server) : IClassFixture<TinyServer>
{
    private static string Body(string fields) => $$"""{"model": "{{TinyServer.ModelName}}", {{fields}}}""";

    [Fact]
    public Task Completion_ReferencePromptsAsTokenIds_GreedyTokensAndLogprobsMatchTheReference() =>
        GreedyReference.AssertCompletionsMatchAsync(server, Fixtures.TinyReference);

    [Fact]
    public async Task Completion_StringPrompt_OpenAiShapeAndUsage()
    {
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": "Hello world", "max_tokens": 7, "temperature": 0, "ignore_eos": true """));
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal(TinyServer.ModelName, body.GetProperty("model").GetString());
        var usage = body.GetProperty("usage");
        int promptTokens = server.Loaded.RequireTokenizer().Encode("Hello world", bos: true).Length;
        Assert.Equal(promptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(promptTokens + 7, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("choices")[0].GetProperty("logprobs").ValueKind);
    }

    [Fact]
    public async Task Completion_ListOfPromptsWithN_ChoicesIndexedPromptTimesNAndGreedyCopiesAgree()
    {
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": ["Hello", "The cat"], "n": 2, "max_tokens": 5, "temperature": 0 """));
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(choices[0].GetProperty("text").GetString(), choices[1].GetProperty("text").GetString());
        Assert.Equal(choices[2].GetProperty("text").GetString(), choices[3].GetProperty("text").GetString());
        Assert.NotEqual(choices[0].GetProperty("text").GetString(), choices[2].GetProperty("text").GetString());
        // Prompt tokens count each prompt once, however many choices it has.
        var tokenizer = server.Loaded.RequireTokenizer();
        Assert.Equal(tokenizer.Encode("Hello", true).Length + tokenizer.Encode("The cat", true).Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Completion_SeededSampling_SameSeedSameTextAndChoicesDrawIndependently()
    {
        string request = Body(""" "prompt": "Once upon", "n": 3, "max_tokens": 12, "temperature": 1.0, "seed": 1234 """);
        var (_, first) = await server.PostAsync("v1/completions", request);
        var (_, second) = await server.PostAsync("v1/completions", request);
        var a = first.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()).ToArray();
        var b = second.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()).ToArray();
        Assert.Equal(a, b);
        Assert.True(a.Distinct().Count() > 1, $"three choices drew the same text: {a[0]}");
    }

    [Fact]
    public async Task Completion_EchoWithLogprobs_PromptFirstAndScored()
    {
        var tokenizer = server.Loaded.RequireTokenizer();
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": "Hello world", "max_tokens": 3, "temperature": 0, "echo": true, "logprobs": 2, "ignore_eos": true """));
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.StartsWith("Hello world", choice.GetProperty("text").GetString());
        var logprobs = choice.GetProperty("logprobs");
        int promptTokens = tokenizer.Encode("Hello world", bos: true).Length;
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(promptTokens + 3, tokenLogprobs.Length);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);               // nothing predicts BOS
        Assert.All(tokenLogprobs[1..], e => Assert.True(e.GetDouble() < 0));
        var top = logprobs.GetProperty("top_logprobs").EnumerateArray().ToArray();
        Assert.Equal(2, top[^1].EnumerateObject().Count());
        // Greedy: the chosen token is the best alternative, with the same logprob.
        Assert.Equal(tokenLogprobs[^1].GetDouble(), top[^1].EnumerateObject().Max(p => p.Value.GetDouble()));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public async Task Completion_StreamedEchoWithLogprobs_ChunksCarryTheWholeResponsesLogprobs(int maxTokens)
    {
        string fields = $$""" "prompt": "Hello world", "max_tokens": {{maxTokens}}, "temperature": 0, "echo": true, "logprobs": 2, "ignore_eos": true """;
        var (_, whole) = await server.PostAsync("v1/completions", Body(fields));
        var expected = whole.GetProperty("choices")[0].GetProperty("logprobs");
        var (events, done) = await server.StreamAsync("v1/completions", Body(fields + """, "stream": true"""));
        Assert.True(done);
        var chunks = events.Select(e => e.GetProperty("choices")[0]).ToList();
        // The first chunk is the prompt, scored: its first token unscored (nothing predicts BOS).
        Assert.Equal("Hello world", chunks[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, chunks[0].GetProperty("logprobs").GetProperty("token_logprobs")[0].ValueKind);
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), string.Concat(chunks.Select(c => c.GetProperty("text").GetString())));
        IEnumerable<string> Streamed(string list) => chunks.Where(c => c.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
            .SelectMany(c => c.GetProperty("logprobs").GetProperty(list).EnumerateArray()).Select(e => e.GetRawText());
        IEnumerable<string> Whole(string list) => expected.GetProperty(list).EnumerateArray().Select(e => e.GetRawText());
        foreach (var list in new[] { "tokens", "token_logprobs", "top_logprobs" }) Assert.Equal(Whole(list), Streamed(list));
        // Offsets: the prompt's alike, and the completion starts right after the echoed text in both.
        int promptTokens = server.Loaded.RequireTokenizer().Encode("Hello world", bos: true).Length;
        var streamedOffsets = Streamed("text_offset").Select(int.Parse).ToArray();
        var wholeOffsets = Whole("text_offset").Select(int.Parse).ToArray();
        Assert.Equal(wholeOffsets[..promptTokens], streamedOffsets[..promptTokens]);
        if (maxTokens > 0) Assert.Equal(["Hello world".Length, "Hello world".Length], [wholeOffsets[promptTokens], streamedOffsets[promptTokens]]);
    }

    [Fact]
    public async Task Completion_MaxTokensZeroWithEcho_ScoresThePromptOnly()
    {
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": "Hello world", "max_tokens": 0, "echo": true, "logprobs": 0 """));
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("Hello world", choice.GetProperty("text").GetString());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(server.Loaded.RequireTokenizer().Encode("Hello world", true).Length, choice.GetProperty("logprobs").GetProperty("token_logprobs").GetArrayLength());
    }

    [Fact]
    public async Task Completion_StopStringAcrossTokenBoundary_TextCutBeforeItWithFinishStop()
    {
        string request = Body(""" "prompt": "The weather today", "max_tokens": 16, "temperature": 0, "logprobs": 0, "ignore_eos": true """);
        var (_, whole) = await server.PostAsync("v1/completions", request);
        var choice = whole.GetProperty("choices")[0];
        string text = choice.GetProperty("text").GetString()!;
        var offsets = choice.GetProperty("logprobs").GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        // A stop string made of the last two characters of token 4 and the first two of token 5.
        int boundary = offsets[5];
        Assert.True(boundary >= 2 && offsets[6] - boundary >= 2, $"tokens too short around offset {boundary} in '{text}'");
        string stop = text.Substring(boundary - 2, 4);
        int expectedEnd = text.IndexOf(stop, StringComparison.Ordinal);

        var (status, cut) = await server.PostAsync("v1/completions", request.Replace("\"ignore_eos\"", $"\"stop\": [\"zzzz\", {JsonSerializer.Serialize(stop)}], \"ignore_eos\""));
        Assert.Equal(200, status);
        var cutChoice = cut.GetProperty("choices")[0];
        Assert.Equal(text[..expectedEnd], cutChoice.GetProperty("text").GetString());
        Assert.Equal("stop", cutChoice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Completion_Stream_ChunksAddUpToTheWholeTextThenUsageThenDone()
    {
        string fields = """ "prompt": "Hello world", "max_tokens": 9, "temperature": 0, "ignore_eos": true """;
        var (_, whole) = await server.PostAsync("v1/completions", Body(fields));
        var (events, done) = await server.StreamAsync("v1/completions", Body(fields + """, "stream": true, "stream_options": {"include_usage": true}"""));
        Assert.True(done);
        var chunks = events.Where(e => e.GetProperty("choices").GetArrayLength() > 0).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = events[^1].GetProperty("usage");
        Assert.Equal(9, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_ListsTheServedModel()
    {
        using var response = await server.Client.GetAsync("v1/models", TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("list", body.GetProperty("object").GetString());
        var model = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal(TinyServer.ModelName, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
    }

    [Fact]
    public async Task HealthAndMetrics_AnswerWithoutKeyAndMetricsCountRequests()
    {
        using var anonymous = server.NewClient(key: null);
        Assert.Equal(200, (int)(await anonymous.GetAsync("health", TestContext.Current.CancellationToken)).StatusCode);
        await server.PostAsync("v1/completions", Body(""" "prompt": "Hi", "max_tokens": 2 """));
        string metrics = await anonymous.GetStringAsync("metrics", TestContext.Current.CancellationToken);
        foreach (var name in new[] { "mistral_cu_requests_total{status=\"200\"}", "mistral_cu_prompt_tokens_total", "mistral_cu_generation_tokens_total",
                     "mistral_cu_queue_depth", "mistral_cu_running_batch_size", "mistral_cu_time_to_first_token_seconds_bucket{le=\"+Inf\"}",
                     "mistral_cu_time_per_output_token_seconds_count" })
            Assert.Contains(name, metrics);
        long generated = long.Parse(metrics.Split('\n').Single(l => l.StartsWith("mistral_cu_generation_tokens_total ")).Split(' ')[1]);
        Assert.True(generated >= 2, $"generation_tokens_total {generated}");
    }
}
