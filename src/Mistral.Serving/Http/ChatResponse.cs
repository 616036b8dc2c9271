using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The chat.completion object, or chat.completion.chunk events: per choice a first delta with the role, then content
/// deltas, then an empty delta with the finish_reason; with stream_options.include_usage a last chunk with usage only.
/// </summary>
internal sealed class ChatResponse(ServedModel model, RequestRun run, GenerationParameters parameters)
{
    private readonly string _id = "chatcmpl-" + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private int PromptTokens => run.Sequences[0].Prompt.Length;

    public async Task WriteAsync(HttpContext http)
    {
        var choices = await ChoiceResult.CollectAsync(run, http.RequestAborted);
        await JsonOutput.WriteAsync(http.Response, json =>
        {
            Header(json, "chat.completion");
            json.WriteStartArray("choices");
            for (int i = 0; i < choices.Length; i++)
            {
                json.WriteStartObject();
                json.WriteNumber("index", i);
                json.WriteStartObject("message");
                json.WriteString("role", "assistant");
                json.WriteString("content", choices[i].Text.ToString());
                json.WriteEndObject();
                if (parameters.TopLogprobs is null) json.WriteNull("logprobs");
                else LogprobsJson.WriteChat(json, model, choices[i].Logprobs);
                json.WriteString("finish_reason", JsonOutput.FinishReason(choices[i].End!.Value));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            JsonOutput.WriteUsage(json, PromptTokens, choices.Sum(c => c.GeneratedTokens));
            json.WriteEndObject();
        });
    }

    public async Task StreamAsync(HttpContext http)
    {
        var cancel = http.RequestAborted;
        await JsonOutput.StartEventsAsync(http.Response);
        for (int i = 0; i < run.Sequences.Count; i++)
        {
            int index = i;
            await JsonOutput.WriteEventAsync(http.Response, json => Chunk(json, index, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
            }, null, null), cancel);
        }
        int generated = 0;
        await foreach (var e in run.EventsAsync(cancel))
        {
            if (e.End == SequenceEnd.Failed)
            {
                await JsonOutput.WriteEventAsync(http.Response, json => JsonOutput.WriteStreamError(json, e.Error), cancel);
                return;
            }
            if (e.End == SequenceEnd.Cancelled) return;
            if (e.Text.Length > 0 || e.Logprob is not null)
                await JsonOutput.WriteEventAsync(http.Response, json => Chunk(json, e.Index, w => w.WriteString("content", e.Text),
                    e.Logprob is null ? null : w => LogprobsJson.WriteChat(w, model, [e.Logprob]), null), cancel);
            if (e.End is { } end)
            {
                generated += e.GeneratedTokens;
                await JsonOutput.WriteEventAsync(http.Response, json => Chunk(json, e.Index, _ => { }, null, JsonOutput.FinishReason(end)), cancel);
            }
        }
        if (parameters.IncludeUsage)
            await JsonOutput.WriteEventAsync(http.Response, json =>
            {
                Header(json, "chat.completion.chunk");
                json.WriteStartArray("choices");
                json.WriteEndArray();
                JsonOutput.WriteUsage(json, PromptTokens, generated);
                json.WriteEndObject();
            }, cancel);
        await JsonOutput.WriteDoneAsync(http.Response, cancel);
    }

    private void Chunk(Utf8JsonWriter json, int index, Action<Utf8JsonWriter> delta, Action<Utf8JsonWriter>? logprobs, string? finishReason)
    {
        Header(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("delta");
        delta(json);
        json.WriteEndObject();
        if (logprobs is null) json.WriteNull("logprobs");
        else logprobs(json);
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void Header(Utf8JsonWriter json, string objectType) => JsonOutput.WriteHeader(json, _id, objectType, _created, model.Name);
}
