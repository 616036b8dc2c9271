using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mistral.Serving.Engine;
using Xunit;

namespace Mistral.Serving.Tests;

public sealed class HostileInputTests(TinyServer server) : IClassFixture<TinyServer>
{
    private static string Body(string fields) => $$"""{"model": "{{TinyServer.ModelName}}", {{fields}}}""";

    private static void AssertError(JsonElement body, string? param, string? code)
    {
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi",""", null, "invalid_json")]
    [InlineData("""[1, 2, 3]""", null, "invalid_json")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "max_tokens": -5}""", "max_tokens", "integer_below_min_value")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "max_tokens": "ten"}""", "max_tokens", "invalid_type")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "temperature": 5}""", "temperature", "decimal_above_max_value")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "top_p": 0}""", "top_p", "decimal_below_min_value")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "n": 0}""", "n", "integer_below_min_value")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "stream": "yes"}""", "stream", "invalid_type")]
    [InlineData("""{"model": "tiny-mistral", "prompt": "hi", "stop": 7}""", "stop", "invalid_type")]
    [InlineData("""{"model": "tiny-mistral", "prompt": [1, 99999999]}""", "prompt", "invalid_token_id")]
    [InlineData("""{"model": "tiny-mistral", "prompt": {"text": "hi"}}""", "prompt", "invalid_type")]
    [InlineData("""{"model": "tiny-mistral"}""", "prompt", "missing_required_parameter")]
    [InlineData("""{"prompt": "hi"}""", "model", "missing_required_parameter")]
    public async Task Completion_MalformedRequest_400WithOpenAiErrorNamingTheField(string json, string? param, string code)
    {
        var (status, body) = await server.PostAsync("v1/completions", json);
        Assert.Equal(400, status);
        AssertError(body, param, code);
    }

    [Fact]
    public async Task Completion_UnknownFields_IgnoredAsOpenAiDoes()
    {
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": "hi", "max_tokens": 2, "frobnicate": {"x": [1]}, "user": "me", "suffix": null """));
        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completion_UnknownModel_404ModelNotFound()
    {
        var (status, body) = await server.PostAsync("v1/completions", """{"model": "gpt-5", "prompt": "hi"}""");
        Assert.Equal(404, status);
        AssertError(body, "model", "model_not_found");
    }

    [Fact]
    public async Task UnknownRoute_404InOpenAiShape()
    {
        using var response = await server.Client.GetAsync("v1/engines", TestContext.Current.CancellationToken);
        Assert.Equal(404, (int)response.StatusCode);
        AssertError(JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement, null, "unknown_url");
    }

    [Fact]
    public async Task Completion_PromptOf100kTokens_400ContextLengthExceeded()
    {
        string ids = string.Join(",", Enumerable.Repeat(1000, 100_000));
        var (status, body) = await server.PostAsync("v1/completions", Body($$""" "prompt": [{{ids}}], "max_tokens": 4 """));
        Assert.Equal(400, status);
        AssertError(body, "prompt", "context_length_exceeded");
        Assert.Contains("100000 in the prompt", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Completion_20MegabyteBody_413BeforeItIsRead()
    {
        var json = Body($$""" "prompt": "{{new string('a', 20 << 20)}}" """);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true; // the server answers from the headers; the 20 MB need not be sent
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(413, (int)response.StatusCode);
        AssertError(JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement, null, "request_too_large");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task Completion_MissingOrWrongApiKey_401(string? key)
    {
        using var client = server.NewClient(key);
        var (status, body) = await server.PostAsync("v1/completions", Body(""" "prompt": "hi" """), client);
        Assert.Equal(401, status);
        AssertError(body, null, "invalid_api_key");
    }

    [Fact]
    public async Task BadRequests_WhileAnotherStreams_DoNotDisturbIt()
    {
        string request = Body(""" "prompt": "Tell me a story", "max_tokens": 24, "temperature": 0, "ignore_eos": true, "stream": true """);
        var (alone, _) = await server.StreamAsync("v1/completions", request);
        var streaming = server.StreamAsync("v1/completions", request);
        var bad = new[]
        {
            """{"model": "tiny-mistral", "prompt": "hi", "max_tokens": -1}""", "{not json", """{"model": "tiny-mistral", "prompt": [1, -3]}""",
            Body($$""" "prompt": [{{string.Join(",", Enumerable.Repeat(5, 40_000))}}] """),
        };
        var statuses = await Task.WhenAll(bad.Select(async b => (await server.PostAsync("v1/completions", b)).Status));
        Assert.All(statuses, s => Assert.Equal(400, s));
        var (together, done) = await streaming;
        Assert.True(done);
        Assert.Equal(Texts(alone), Texts(together));
    }

    private static string Texts(List<JsonElement> events) =>
        string.Concat(events.Where(e => e.GetProperty("choices").GetArrayLength() > 0).Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString()));
}

/// <summary>One row and no queue: a second request while the first runs is refused with 429, and the row comes back when the first client leaves.</summary>
public sealed class QueueFullTests : IAsyncLifetime
{
    private readonly TinyServer _server = TinyServer.With(chatTemplate: true, rows: 1, new SchedulerOptions { MaxQueue = 0 });

    public ValueTask InitializeAsync() => _server.InitializeAsync();
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Completion_QueueFull_429ThenRowFreedWhenTheClientDisconnects()
    {
        var body = $$"""{"model": "{{TinyServer.ModelName}}", "prompt": "hi", "max_tokens": 30000, "ignore_eos": true, "stream": true}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("data: ", await reader.ReadLineAsync(TestContext.Current.CancellationToken));   // the first runs and holds the only row
        Assert.Equal(1, _server.Host.Scheduler.LiveRows);

        var (status, refused) = await _server.PostAsync("v1/completions", $$"""{"model": "{{TinyServer.ModelName}}", "prompt": "hi", "max_tokens": 2}""");
        Assert.Equal(429, status);
        Assert.Equal("queue_full", refused.GetProperty("error").GetProperty("code").GetString());

        reader.Dispose();
        response.Dispose();                                             // the client goes away
        Assert.Equal(0, await _server.LiveRowsAfterSettlingAsync());
        var (ok, _) = await _server.PostAsync("v1/completions", $$"""{"model": "{{TinyServer.ModelName}}", "prompt": "hi", "max_tokens": 2}""");
        Assert.Equal(200, ok);
    }
}
