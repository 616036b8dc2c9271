using System.Text.Json;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// The server over the tiny-gpt2 fixture: completions reproduce the reference's greedy tokens and logprobs, prompts get
/// no BOS, chat is refused for want of a template, n_positions bounds every request, and concurrent requests equal
/// their solo runs.
/// </summary>
public sealed class Gpt2ServingTests(TinyGpt2Server server) : IClassFixture<TinyGpt2Server>
{
    /// <summary>Tokens per prompt in the greedy reference.</summary>
    private const int ReferenceTokens = 24;

    private static readonly string[] PromptTexts = ["The lighthouse keeper woke", "Rain fell softly on the roof.", "After the long winter, the farmers gathered."];

    private static string Body(string fields) => $$"""{"model": "{{TinyGpt2Server.Gpt2ModelName}}", {{fields}}}""";

    private static string ReferencePath => Path.Combine(Fixtures.TinyGpt2Reference, "greedy.safetensors");

    [Fact]
    public Task Completion_ReferencePromptsAsTokenIds_GreedyTokensAndLogprobsMatchTheReference() =>
        GreedyReference.AssertCompletionsMatchAsync(server, Fixtures.TinyGpt2Reference);

    [Fact]
    public async Task Completion_ReferencePromptTexts_EncodedWithoutBosAndGreedyAsTheReference()
    {
        using var file = SafeTensorsFile.Open(ReferencePath);
        var generated = file.Get("generated").ToInt32();
        var tokenizer = server.Loaded.RequireTokenizer();
        for (int p = 0; p < 3; p++)
        {
            var (status, body) = await server.PostAsync("v1/completions",
                Body($$"""  "prompt": {{JsonSerializer.Serialize(PromptTexts[p])}}, "max_tokens": {{ReferenceTokens}}, "temperature": 0, "ignore_eos": true"""));
            Assert.Equal(200, status);
            // The reference's prompt ids are the text's GPT-2 tokens alone: no BOS in front.
            Assert.Equal(file.Get($"prompt{p}.tokens").ToInt32().Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(tokenizer.Decode(generated.AsSpan(p * ReferenceTokens, ReferenceTokens).ToArray()), body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task Completion_EchoWithLogprobs_FirstPromptTokenUnscoredAndTheRestAsTheReference()
    {
        using var file = SafeTensorsFile.Open(ReferencePath);
        var prompt = file.Get("prompt1.tokens").ToInt32();
        var along = file.Get("prompt1.generate_logprobs").ToFloat32();   // prompt tokens 1.., then the generated ones
        var (status, body) = await server.PostAsync("v1/completions",
            Body($$"""  "prompt": [{{string.Join(",", prompt)}}], "max_tokens": 3, "temperature": 0, "echo": true, "logprobs": 0, "ignore_eos": true"""));
        Assert.Equal(200, status);
        var tokenLogprobs = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(prompt.Length + 3, tokenLogprobs.Length);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);   // no BOS: nothing predicts the first prompt token
        for (int t = 1; t < tokenLogprobs.Length; t++)
            Assert.True(Math.Abs(tokenLogprobs[t].GetDouble() - along[t - 1]) <= GreedyReference.Tolerance, $"token {t}: {tokenLogprobs[t].GetDouble()} vs reference {along[t - 1]}");
    }

    [Fact]
    public async Task ChatCompletion_Gpt2HasNoTemplate_400ChatTemplateMissing()
    {
        var (status, body) = await server.PostAsync("v1/chat/completions", Body(""" "messages": [{"role": "user", "content": "hi"}] """));
        Assert.Equal(400, status);
        Assert.Equal("chat_template_missing", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("no chat template", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Completion_PromptPlusMaxTokensPastNPositions_400ContextLengthExceededNamingBoth()
    {
        var prompt = Enumerable.Range(0, 41).Select(i => 464 + i).ToArray();
        var (status, body) = await server.PostAsync("v1/completions", Body($$"""  "prompt": [{{string.Join(",", prompt)}}], "max_tokens": 24"""));
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        string message = error.GetProperty("message").GetString()!;
        Assert.Contains($"maximum context length is {TinyGpt2Server.PositionLimit} tokens", message);
        Assert.Contains("you requested 65 tokens (41 in the prompt, 24 for the completion)", message);

        // Exactly n_positions fits: the last position of the table is used, none past it.
        var (fits, whole) = await server.PostAsync("v1/completions", Body($$"""  "prompt": [{{string.Join(",", prompt[..40])}}], "max_tokens": 24, "temperature": 0, "ignore_eos": true"""));
        Assert.Equal(200, fits);
        Assert.Equal(24, whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, await server.LiveRowsAfterSettlingAsync());
    }

    [Fact]
    public async Task Completion_TextPromptLongerThanNPositions_400ContextLengthExceededBeforeAnyWork()
    {
        string text = string.Concat(Enumerable.Repeat("Rain fell softly on the roof. ", 10));
        int promptTokens = server.Loaded.RequireTokenizer().Encode(text.TrimEnd(), bos: false).Length;
        Assert.True(promptTokens > TinyGpt2Server.PositionLimit, $"the prompt has only {promptTokens} tokens");
        var (status, body) = await server.PostAsync("v1/completions", Body($$"""  "prompt": {{JsonSerializer.Serialize(text.TrimEnd())}}, "stream": true"""));
        Assert.Equal(400, status);
        Assert.Equal("context_length_exceeded", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains($"maximum context length is {TinyGpt2Server.PositionLimit} tokens. However, you requested {promptTokens + 16} tokens ({promptTokens} in the prompt, 16 for the completion)",
            body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, server.Host.Scheduler.LiveRows);
    }

    [Fact]
    public async Task ConcurrentRequests_GreedyAndSeeded_EachEqualsItsSoloRun()
    {
        string Request(int i)
        {
            string sampling = i % 2 == 1 ? $"\"temperature\": 0.9, \"top_p\": 0.95, \"seed\": {200 + i}" : "\"temperature\": 0";
            return Body($$"""  "prompt": {{JsonSerializer.Serialize(PromptTexts[i % 3])}}, "max_tokens": {{10 + 3 * i}}, {{sampling}}, "logprobs": 1, "ignore_eos": true""");
        }

        async Task<string> RunAsync(int i)
        {
            var (status, body) = await server.PostAsync("v1/completions", Request(i));
            Assert.Equal(200, status);
            return body.GetProperty("choices")[0].GetRawText();
        }

        const int Requests = 6;
        var solo = new string[Requests];
        for (int i = 0; i < Requests; i++) solo[i] = await RunAsync(i);
        var together = await Task.WhenAll(Enumerable.Range(0, Requests).Select(RunAsync));
        for (int i = 0; i < Requests; i++) Assert.Equal(solo[i], together[i]);
        Assert.Equal(0, await server.LiveRowsAfterSettlingAsync());
    }
}
