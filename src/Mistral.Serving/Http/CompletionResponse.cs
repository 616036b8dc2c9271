using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The text_completion object of a completions request, whole or as server-sent chunks (one per token, with its
/// logprobs when asked). Streamed, echo sends the prompt text as each choice's first chunk, without prompt logprobs
/// (those come with the whole response).
/// </summary>
internal sealed class CompletionResponse(ServedModel model, RequestRun run, GenerationParameters parameters, IReadOnlyList<string>? echoTexts)
    : OpenAiResponse(model, run, parameters, "cmpl-", "text_completion", "text_completion")
{
    private readonly int[] _textOffsets = new int[run.Sequences.Count];

    protected override int PromptTokens => Run.Sequences.Where((_, i) => i % Parameters.N == 0).Sum(s => s.Prompt.Length);

    protected override void WriteChoice(Utf8JsonWriter json, int index, ChoiceResult choice)
    {
        var sequence = Run.Sequences[index];
        json.WriteStartObject();
        json.WriteString("text", (echoTexts?[index / Parameters.N] ?? "") + choice.Text);
        json.WriteNumber("index", index);
        if (Parameters.TopLogprobs is null) json.WriteNull("logprobs");
        else
        {
            var tokens = (echoTexts is null ? [] : sequence.Prompt).Concat(choice.Logprobs.Select(e => e.Token)).ToList();
            var entries = (echoTexts is null ? [] : sequence.PromptLogprobs!).Concat(choice.Logprobs).ToList();
            LogprobsJson.WriteCompletion(json, Model, tokens, entries, 0);
        }
        json.WriteString("finish_reason", JsonOutput.FinishReason(choice.End!.Value));
        json.WriteEndObject();
    }

    protected override async Task WritePreludeAsync(HttpContext http)
    {
        if (echoTexts is null) return;
        for (int i = 0; i < _textOffsets.Length; i++)
        {
            string echo = echoTexts[i / Parameters.N];
            await SendAsync(http, json => Chunk(json, i, echo, null, null));
            _textOffsets[i] = echo.Length;
        }
    }

    protected override Task WriteEventAsync(HttpContext http, SequenceEvent e)
    {
        int offset = _textOffsets[e.Index];
        _textOffsets[e.Index] += e.Text.Length;
        return SendAsync(http, json => Chunk(json, e.Index, e.Text,
            e.Logprob is null ? null : w => LogprobsJson.WriteCompletion(w, Model, [e.Logprob.Token], [e.Logprob], offset),
            e.End is { } end ? JsonOutput.FinishReason(end) : null));
    }

    private void Chunk(Utf8JsonWriter json, int index, string text, Action<Utf8JsonWriter>? logprobs, string? finishReason) =>
        WriteChunk(json, index, w =>
        {
            w.WriteString("text", text);
            if (logprobs is null) w.WriteNull("logprobs");
            else logprobs(w);
            w.WriteString("finish_reason", finishReason);
        });
}
