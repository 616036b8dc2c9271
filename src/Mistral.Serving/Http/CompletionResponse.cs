using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The text_completion object of a completions request, whole or as server-sent chunks (one per token, with its
/// logprobs when asked). Streamed, echo sends the prompt text as each choice's first chunk: at once without logprobs;
/// with logprobs once the prompt is scored (the choice's first event comes after its prefill), carrying the prompt's
/// logprobs as the whole response does.
/// </summary>
internal sealed class CompletionResponse(ServedModel model, RequestRun run, GenerationParameters parameters, IReadOnlyList<string>? echoTexts)
    : OpenAiResponse(model, run, parameters, "cmpl-", "text_completion", "text_completion")
{
    private readonly int[] _textOffsets = new int[run.Sequences.Count];
    private readonly bool[] _echoed = new bool[run.Sequences.Count];

    /// <summary>Echo waits for the prompt's logprobs.</summary>
    private bool EchoScored => echoTexts is not null && Parameters.TopLogprobs is not null;

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
            var generated = choice.Logprobs.Select(e => e.Token).ToList();
            string? echo = echoTexts?[index / Parameters.N];
            var tokens = (echo is null ? [] : sequence.Prompt).Concat(generated).ToList();
            var entries = (echo is null ? [] : sequence.PromptLogprobs!).Concat(choice.Logprobs).ToList();
            var offsets = echo is null
                ? LogprobsJson.TextOffsets(Model, generated, 0)
                : LogprobsJson.TextOffsets(Model, sequence.Prompt, 0).Concat(LogprobsJson.TextOffsets(Model, generated, echo.Length));
            LogprobsJson.WriteCompletion(json, Model, tokens, entries, offsets);
        }
        json.WriteString("finish_reason", JsonOutput.FinishReason(choice.End!.Value));
        json.WriteEndObject();
    }

    protected override async Task WritePreludeAsync(HttpContext http)
    {
        if (echoTexts is null || EchoScored) return;
        for (int i = 0; i < _textOffsets.Length; i++) await EchoAsync(http, i);
    }

    /// <summary>Choice <paramref name="index"/>'s prompt text, with its logprobs when asked (by then scored).</summary>
    private Task EchoAsync(HttpContext http, int index)
    {
        string echo = echoTexts![index / Parameters.N];
        _echoed[index] = true;
        _textOffsets[index] = echo.Length;
        var sequence = Run.Sequences[index];
        return SendAsync(http, json => Chunk(json, index, echo,
            EchoScored ? w => LogprobsJson.WriteCompletion(w, Model, sequence.Prompt, sequence.PromptLogprobs!, LogprobsJson.TextOffsets(Model, sequence.Prompt, 0)) : null, null));
    }

    protected override async Task WriteEventAsync(HttpContext http, SequenceEvent e)
    {
        if (EchoScored && !_echoed[e.Index]) await EchoAsync(http, e.Index);
        int offset = _textOffsets[e.Index];
        _textOffsets[e.Index] += e.Text.Length;
        await SendAsync(http, json => Chunk(json, e.Index, e.Text,
            e.Logprob is null ? null : w => LogprobsJson.WriteCompletion(w, Model, [e.Logprob.Token], [e.Logprob], [offset]),
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
