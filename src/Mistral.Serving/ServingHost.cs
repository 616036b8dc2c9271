using Mistral.Runtime.Chat;
using Mistral.Runtime.Tokenizer;
using Mistral.Serving.Engine;
using Mistral.Serving.Http;
using Mistral.Serving.Metrics;

namespace Mistral.Serving;

/// <summary>
/// A running server: the scheduler over a model and the HTTP server in front of it, started together and stopped in
/// order (HTTP first, so no request arrives at a stopped scheduler). What `serve`, `bench serve` and the tests start.
/// </summary>
public sealed class ServingHost : IAsyncDisposable
{
    private ServingHost(ServedModel model, OpenAiServer server)
    {
        Model = model;
        Server = server;
    }

    public ServedModel Model { get; }
    public OpenAiServer Server { get; }
    public Scheduler Scheduler => Model.Scheduler;
    public ServingMetrics Metrics => Model.Metrics;
    public Uri BaseAddress => Server.BaseAddress;

    /// <param name="lm">not owned: the caller disposes it after the host.</param>
    /// <param name="chatTemplate">null: the model has none, and /v1/chat/completions answers 400.</param>
    public static async Task<ServingHost> StartAsync(IServingLm lm, ITokenizer tokenizer, ChatTemplate? chatTemplate, string name,
        SchedulerOptions scheduling, ServerOptions server, CancellationToken cancel = default)
    {
        var metrics = new ServingMetrics();
        var scheduler = new Scheduler(lm, scheduling, metrics);
        var model = new ServedModel(name, tokenizer, chatTemplate, scheduler, metrics);
        try
        {
            return new ServingHost(model, await OpenAiServer.StartAsync(model, server, cancel));
        }
        catch
        {
            scheduler.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Scheduler.Dispose();
    }
}
