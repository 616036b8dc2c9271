using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// What completions and chat responses share: the id and created time, the whole response (choices, then usage), and
/// the stream (a prelude, one chunk per event, an error event if the model fails, a usage-only chunk when
/// stream_options.include_usage asks, then [DONE]). A client that goes away ends the stream silently.
/// </summary>
internal abstract class OpenAiResponse(ServedModel model, RequestRun run, GenerationParameters parameters, string idPrefix, string objectType, string chunkObjectType)
{
    private readonly string _id = idPrefix + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    protected ServedModel Model => model;
    protected RequestRun Run => run;
    protected GenerationParameters Parameters => parameters;
    protected abstract int PromptTokens { get; }

    /// <summary>Writes choice <paramref name="index"/> of the whole response, as one object of "choices".</summary>
    protected abstract void WriteChoice(Utf8JsonWriter json, int index, ChoiceResult choice);

    /// <summary>Chunks before any token (the role of each chat choice, an echoed prompt).</summary>
    protected virtual Task WritePreludeAsync(HttpContext http) => Task.CompletedTask;

    /// <summary>The chunk(s) of one token event or one (successful) end event.</summary>
    protected abstract Task WriteEventAsync(HttpContext http, SequenceEvent e);

    /// <summary>Answers the request: streamed when it asked for a stream, else whole.</summary>
    public Task RespondAsync(HttpContext http) => parameters.Stream ? StreamAsync(http) : WriteAsync(http);

    private async Task WriteAsync(HttpContext http)
    {
        var choices = await ChoiceResult.CollectAsync(run, http.RequestAborted);
        await JsonOutput.WriteAsync(http.Response, json =>
        {
            Header(json, objectType);
            json.WriteStartArray("choices");
            for (int i = 0; i < choices.Length; i++) WriteChoice(json, i, choices[i]);
            json.WriteEndArray();
            JsonOutput.WriteUsage(json, PromptTokens, choices.Sum(c => c.GeneratedTokens));
            json.WriteEndObject();
        });
    }

    private async Task StreamAsync(HttpContext http)
    {
        await JsonOutput.StartEventsAsync(http.Response);
        await WritePreludeAsync(http);
        int generated = 0;
        await foreach (var e in run.EventsAsync(http.RequestAborted))
        {
            if (e.End == SequenceEnd.Failed)
            {
                await SendAsync(http, json => JsonOutput.WriteStreamError(json, e.Error));
                return;
            }
            if (e.End == SequenceEnd.Cancelled) return;
            if (e.End is not null) generated += e.GeneratedTokens;
            await WriteEventAsync(http, e);
        }
        if (parameters.IncludeUsage)
            await SendAsync(http, json =>
            {
                Header(json, chunkObjectType);
                json.WriteStartArray("choices");
                json.WriteEndArray();
                JsonOutput.WriteUsage(json, PromptTokens, generated);
                json.WriteEndObject();
            });
        await JsonOutput.WriteDoneAsync(http.Response, http.RequestAborted);
    }

    protected Task SendAsync(HttpContext http, Action<Utf8JsonWriter> write) => JsonOutput.WriteEventAsync(http.Response, write, http.RequestAborted);

    /// <summary>A chunk object with one choice; <paramref name="body"/> writes the choice's fields after its index.</summary>
    protected void WriteChunk(Utf8JsonWriter json, int index, Action<Utf8JsonWriter> body)
    {
        Header(json, chunkObjectType);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        body(json);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void Header(Utf8JsonWriter json, string type) => JsonOutput.WriteHeader(json, _id, type, _created, model.Name);
}
