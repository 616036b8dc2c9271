using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The chat.completion object, or chat.completion.chunk events: per choice a first delta with the role, then content
/// deltas, then an empty delta with the finish_reason; with stream_options.include_usage a last chunk with usage only.
/// </summary>
internal sealed class ChatResponse(ServedModel model, RequestRun run, GenerationParameters parameters)
    : OpenAiResponse(model, run, parameters, "chatcmpl-", "chat.completion", "chat.completion.chunk")
{
    protected override int PromptTokens => Run.Sequences[0].Prompt.Length;

    protected override void WriteChoice(Utf8JsonWriter json, int index, ChoiceResult choice)
    {
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", choice.Text.ToString());
        json.WriteEndObject();
        if (Parameters.TopLogprobs is null) json.WriteNull("logprobs");
        else LogprobsJson.WriteChat(json, Model, choice.Logprobs);
        json.WriteString("finish_reason", JsonOutput.FinishReason(choice.End!.Value));
        json.WriteEndObject();
    }

    protected override async Task WritePreludeAsync(HttpContext http)
    {
        for (int i = 0; i < Run.Sequences.Count; i++)
        {
            int index = i;
            await SendAsync(http, json => Chunk(json, index, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
            }, null, null));
        }
    }

    protected override async Task WriteEventAsync(HttpContext http, SequenceEvent e)
    {
        if (e.Text.Length > 0 || e.Logprob is not null)
            await SendAsync(http, json => Chunk(json, e.Index, w => w.WriteString("content", e.Text),
                e.Logprob is null ? null : w => LogprobsJson.WriteChat(w, Model, [e.Logprob]), null));
        if (e.End is { } end)
            await SendAsync(http, json => Chunk(json, e.Index, _ => { }, null, JsonOutput.FinishReason(end)));
    }

    private void Chunk(Utf8JsonWriter json, int index, Action<Utf8JsonWriter> delta, Action<Utf8JsonWriter>? logprobs, string? finishReason) =>
        WriteChunk(json, index, w =>
        {
            w.WriteStartObject("delta");
            delta(w);
            w.WriteEndObject();
            if (logprobs is null) w.WriteNull("logprobs");
            else logprobs(w);
            w.WriteString("finish_reason", finishReason);
        });
}
