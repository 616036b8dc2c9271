using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Chat;
using Mistral.Runtime.Model;
using Mistral.Serving.Engine;
using Mistral.Serving.Http;
using Mistral.Testing;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// The server in-process on a free loopback port, serving the tiny-mistral fixture (fp32 on the CPU reference ops)
/// with an API key. Small prefill chunks and a small step budget, so that even short prompts are prefilled in several
/// chunks interleaved with other sequences' decode steps. <see cref="TinyGpt2Server"/> serves the tiny-gpt2 fixture
/// the same way.
/// </summary>
public class TinyServer : IAsyncLifetime
{
    public const string ApiKey = "sk-test-key";
    public const string ModelName = "tiny-mistral";

    private readonly string _modelDir;
    private readonly bool _chatTemplate;
    private readonly int _rows;
    private readonly SchedulerOptions _scheduling;
    private CpuOps? _ops;
    private LoadedModel? _loaded;
    private CausalLmServingLm? _lm;

    /// <summary>The settings every shared server uses: 16 rows, prefill chunks of 5 tokens, 24 tokens a step.</summary>
    protected static SchedulerOptions SharedScheduling => new() { MaxQueue = 64, PrefillChunk = 5, StepTokens = 24 };

    public TinyServer() : this(Fixtures.TinyNative, ModelName, chatTemplate: true, rows: 16, SharedScheduling) { }

    /// <summary>A server of other settings, for a test that starts and stops its own.</summary>
    public static TinyServer With(bool chatTemplate, int rows, SchedulerOptions scheduling) => new(Fixtures.TinyNative, ModelName, chatTemplate, rows, scheduling);

    protected TinyServer(string modelDir, string name, bool chatTemplate, int rows, SchedulerOptions scheduling)
    {
        _modelDir = modelDir;
        Name = name;
        _chatTemplate = chatTemplate;
        _rows = rows;
        _scheduling = scheduling;
    }

    /// <summary>The name clients address the model by.</summary>
    public string Name { get; }

    public ServingHost Host { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public LoadedModel Loaded => _loaded!;

    public async ValueTask InitializeAsync()
    {
        _ops = new CpuOps();
        _loaded = LoadedModel.Load(_modelDir, _ops);
        _lm = new CausalLmServingLm(_loaded.Model, _rows);
        var tokenizer = _loaded.RequireTokenizer();
        Host = await ServingHost.StartAsync(_lm, tokenizer, _chatTemplate ? ChatTemplate.For(tokenizer) : null, Name, _scheduling,
            new ServerOptions { Host = "127.0.0.1", Port = 0, ApiKey = ApiKey });
        Client = NewClient();
    }

    /// <summary>A client of this server, with the API key unless told otherwise.</summary>
    public HttpClient NewClient(string? key = ApiKey)
    {
        var client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>POSTs a JSON body; returns the status and the parsed answer.</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json, HttpClient? client = null)
    {
        using var response = await (client ?? Client).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>POSTs a streaming request; returns the JSON of every "data:" event before [DONE], and whether [DONE] came.</summary>
    public async Task<(List<JsonElement> Events, bool Done)> StreamAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<JsonElement>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0) continue;
            Assert.StartsWith("data: ", line);
            var data = line["data: ".Length..];
            if (data == "[DONE]") return (events, true);
            events.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        return (events, false);
    }

    /// <summary>Waits (bounded) until every cache row is free again.</summary>
    public async Task<int> LiveRowsAfterSettlingAsync()
    {
        for (int i = 0; i < 200 && Host.Scheduler.LiveRows != 0; i++) await Task.Delay(25);
        return Host.Scheduler.LiveRows;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Host is not null) await Host.DisposeAsync();
        _lm?.Dispose();
        _loaded?.Dispose();
        _ops?.Dispose();
    }
}
