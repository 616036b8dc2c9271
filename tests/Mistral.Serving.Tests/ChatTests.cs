using System.Text.Json;
using Mistral.Runtime.Chat;
using Mistral.Serving.Engine;
using Xunit;

namespace Mistral.Serving.Tests;

public sealed class ChatTests(TinyServer server) : IClassFixture<TinyServer>
{
    private const string Messages = """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": [{"type": "text", "text": "How are you?"}]}]""";

    private static string Body(string fields) => $$"""{"model": "{{TinyServer.ModelName}}", "messages": {{Messages}}, {{fields}}}""";

    [Fact]
    public async Task Chat_Conversation_PromptIsTheInstructTemplateAndShapeIsOpenAis()
    {
        var (status, body) = await server.PostAsync("v1/chat/completions", Body(""" "max_tokens": 6, "temperature": 0 """));
        Assert.Equal(200, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var template = ChatTemplate.For(server.Loaded.RequireTokenizer())!;
        int[] prompt = template.Prompt([new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello"), new(ChatRole.Assistant, "Hi!"), new(ChatRole.User, "How are you?")]);
        Assert.Equal(prompt.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // The same ids as a completions prompt give the same greedy text: chat is the template, nothing more.
        var (_, completion) = await server.PostAsync("v1/completions",
            $$"""{"model": "{{TinyServer.ModelName}}", "prompt": [{{string.Join(",", prompt)}}], "max_tokens": 6, "temperature": 0}""");
        Assert.Equal(completion.GetProperty("choices")[0].GetProperty("text").GetString(), choice.GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Chat_Stream_RoleFirstThenContentDeltasThenFinishThenDone()
    {
        var (_, whole) = await server.PostAsync("v1/chat/completions", Body(""" "max_tokens": 8, "temperature": 0, "logprobs": true, "top_logprobs": 1 """));
        var (events, done) = await server.StreamAsync("v1/chat/completions", Body(""" "max_tokens": 8, "temperature": 0, "stream": true """));
        Assert.True(done);
        Assert.All(events, e => Assert.Equal("chat.completion.chunk", e.GetProperty("object").GetString()));
        var deltas = events.Select(e => e.GetProperty("choices")[0].GetProperty("delta")).ToList();
        Assert.Equal("assistant", deltas[0].GetProperty("role").GetString());
        string streamed = string.Concat(deltas.Skip(1).Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), streamed);
        Assert.Empty(deltas[^1].EnumerateObject());
        Assert.NotEqual(JsonValueKind.Null, events[^1].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        var content = whole.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), content.GetArrayLength());
        Assert.Single(content[0].GetProperty("top_logprobs").EnumerateArray());
    }

    [Theory]
    [InlineData("""[{"role": "assistant", "content": "hi"}]""", "alternate")]
    [InlineData("""[{"role": "wizard", "content": "hi"}]""", "messages[0].role")]
    [InlineData("""[]""", "empty")]
    [InlineData("\"hello\"", "expected an array")]
    public async Task Chat_BadMessages_400NamingMessages(string messages, string fragment)
    {
        var (status, body) = await server.PostAsync("v1/chat/completions", $$"""{"model": "{{TinyServer.ModelName}}", "messages": {{messages}}}""");
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Contains(fragment, error.GetProperty("message").GetString() + " " + error.GetProperty("param").GetString());
        Assert.StartsWith("messages", error.GetProperty("param").GetString());
    }
}

/// <summary>A model without a chat template (GPT-2 has none): chat completions are refused with a clear 400, completions work.</summary>
public sealed class NoChatTemplateTests : IAsyncLifetime
{
    private readonly TinyServer _server = TinyServer.With(chatTemplate: false, rows: 2, new SchedulerOptions());

    public ValueTask InitializeAsync() => _server.InitializeAsync();
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Chat_ModelWithoutTemplate_400ChatTemplateMissing()
    {
        var (status, body) = await _server.PostAsync("v1/chat/completions", $$"""{"model": "{{TinyServer.ModelName}}", "messages": [{"role": "user", "content": "hi"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("chat_template_missing", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("no chat template", body.GetProperty("error").GetProperty("message").GetString());
        var (ok, _) = await _server.PostAsync("v1/completions", $$"""{"model": "{{TinyServer.ModelName}}", "prompt": "hi", "max_tokens": 2}""");
        Assert.Equal(200, ok);
    }
}
