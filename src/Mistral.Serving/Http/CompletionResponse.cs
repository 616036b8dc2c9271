using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The text_completion object of a completions request, whole or as server-sent chunks. Streamed, echo sends the prompt
/// text as each choice's first chunk, without prompt logprobs (those come with the whole response).
/// </summary>
internal sealed class CompletionResponse(ServedModel model, RequestRun run, GenerationParameters parameters, IReadOnlyList<string>? echoTexts)
{
    private readonly string _id = "cmpl-" + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private int PromptTokens => run.Sequences.Where((_, i) => i % parameters.N == 0).Sum(s => s.Prompt.Length);

    public async Task WriteAsync(HttpContext http)
    {
        var choices = await ChoiceResult.CollectAsync(run, http.RequestAborted);
        await JsonOutput.WriteAsync(http.Response, json =>
        {
            Header(json, "text_completion");
            json.WriteStartArray("choices");
            for (int i = 0; i < choices.Length; i++)
            {
                var choice = choices[i];
                var sequence = run.Sequences[i];
                string echo = echoTexts?[i / parameters.N] ?? "";
                json.WriteStartObject();
                json.WriteString("text", echo + choice.Text);
                json.WriteNumber("index", i);
                if (parameters.TopLogprobs is null) json.WriteNull("logprobs");
                else
                {
                    var tokens = (echoTexts is null ? [] : sequence.Prompt).Concat(choice.Logprobs.Select(e => e.Token)).ToList();
                    var entries = (echoTexts is null ? [] : sequence.PromptLogprobs!).Concat(choice.Logprobs).ToList();
                    LogprobsJson.WriteCompletion(json, model, tokens, entries, 0);
                }
                json.WriteString("finish_reason", JsonOutput.FinishReason(choice.End!.Value));
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
        var offsets = new int[run.Sequences.Count];
        if (echoTexts is not null)
            for (int i = 0; i < offsets.Length; i++)
            {
                string echo = echoTexts[i / parameters.N];
                await JsonOutput.WriteEventAsync(http.Response, json => Chunk(json, i, echo, null, null), cancel);
                offsets[i] = echo.Length;
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
            if (e.End is not null) generated += e.GeneratedTokens;
            int offset = offsets[e.Index];
            offsets[e.Index] += e.Text.Length;
            await JsonOutput.WriteEventAsync(http.Response, json => Chunk(json, e.Index, e.Text,
                e.Logprob is null ? null : w => LogprobsJson.WriteCompletion(w, model, [e.Logprob.Token], [e.Logprob], offset),
                e.End is { } finish ? JsonOutput.FinishReason(finish) : null), cancel);
        }
        if (parameters.IncludeUsage)
            await JsonOutput.WriteEventAsync(http.Response, json =>
            {
                Header(json, "text_completion");
                json.WriteStartArray("choices");
                json.WriteEndArray();
                JsonOutput.WriteUsage(json, PromptTokens, generated);
                json.WriteEndObject();
            }, cancel);
        await JsonOutput.WriteDoneAsync(http.Response, cancel);
    }

    private void Chunk(Utf8JsonWriter json, int index, string text, Action<Utf8JsonWriter>? logprobs, string? finishReason)
    {
        Header(json, "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteNumber("index", index);
        if (logprobs is null) json.WriteNull("logprobs");
        else logprobs(json);
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void Header(Utf8JsonWriter json, string objectType) => JsonOutput.WriteHeader(json, _id, objectType, _created, model.Name);
}
