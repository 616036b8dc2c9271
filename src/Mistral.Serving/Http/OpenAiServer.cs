using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mistral.Serving.Http;

/// <summary>
/// The OpenAI-compatible HTTP server: Kestrel and ASP.NET Core's router in front of one <see cref="ServedModel"/>.
/// Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions, GET /health, GET /metrics; anything else
/// is a 404 in OpenAI's error shape. Errors of any route come out as {"error": {…}}; requests are counted by status.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OpenAiServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>http://host:port/ the server answers on (the real port when 0 was asked for).</summary>
    public Uri BaseAddress { get; }

    public static async Task<OpenAiServer> StartAsync(ServedModel model, ServerOptions options, CancellationToken cancel = default)
    {
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var parsed) ? parsed
            : throw new ArgumentException($"serve: --host {options.Host} is not an IP address (or localhost)");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        app.Use((http, next) => Guard(http, next, model, options));
        Map(app, model);
        await app.StartAsync(cancel);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OpenAiServer(app, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
    }

    private static void Map(WebApplication app, ServedModel model)
    {
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        app.MapGet("/v1/models", http => JsonOutput.WriteAsync(http.Response, json =>
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            WriteModel(json, model, created);
            json.WriteEndArray();
            json.WriteEndObject();
        }));
        app.MapGet("/v1/models/{id}", (HttpContext http, string id) => id == model.Name
            ? JsonOutput.WriteAsync(http.Response, json => WriteModel(json, model, created))
            : throw new OpenAiException(404, $"The model `{id}` does not exist.", param: "model", code: "model_not_found"));
        app.MapPost("/v1/completions", http => CompletionsEndpoint.HandleAsync(http, model));
        app.MapPost("/v1/chat/completions", http => ChatCompletionsEndpoint.HandleAsync(http, model));
        app.MapGet("/health", http => JsonOutput.WriteAsync(http.Response, json =>
        {
            json.WriteStartObject();
            json.WriteString("status", "ok");
            json.WriteEndObject();
        }));
        app.MapGet("/metrics", async http =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await http.Response.WriteAsync(model.Metrics.Render());
        });
        app.MapFallback(http => throw new OpenAiException(404, $"Invalid URL ({http.Request.Method} {http.Request.Path}).", code: "unknown_url"));
    }

    private static void WriteModel(System.Text.Json.Utf8JsonWriter json, ServedModel model, long created)
    {
        json.WriteStartObject();
        json.WriteString("id", model.Name);
        json.WriteString("object", "model");
        json.WriteNumber("created", created);
        json.WriteString("owned_by", "mistral-cu");
        json.WriteNumber("max_model_len", model.Scheduler.MaxSequenceLength);
        json.WriteEndObject();
    }

    /// <summary>Every request: the API key on /v1 routes, OpenAI's error shape for whatever a route throws, the count by status.</summary>
    private static async Task Guard(HttpContext http, RequestDelegate next, ServedModel model, ServerOptions options)
    {
        try
        {
            if (options.ApiKey is { } key && http.Request.Path.StartsWithSegments("/v1")
                && http.Request.Headers.Authorization.ToString() != "Bearer " + key)
                throw new OpenAiException(401, "Incorrect API key provided. Pass it as 'Authorization: Bearer KEY'.", code: "invalid_api_key");
            await next(http);
        }
        catch (OpenAiException e)
        {
            await e.WriteAsync(http.Response);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its sequences are cancelled and there is nobody to answer.
        }
        catch (Exception e) when (e is not OutOfMemoryException && !http.Response.HasStarted)
        {
            await OpenAiException.WriteAsync(http.Response, 500, $"Internal error: {e.Message}", "server_error", null, null);
        }
        model.Metrics.CountRequest(http.Response.StatusCode);
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
