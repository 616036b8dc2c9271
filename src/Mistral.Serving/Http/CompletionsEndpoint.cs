using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// POST /v1/completions: prompt as a string, a list of strings, a list of token ids or a list of such lists; each
/// prompt gets n choices (index = prompt · n + j). echo puts the prompt before the text (and, with logprobs, scores it).
/// </summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServedModel model)
    {
        var (document, parameters) = await RequestBody.ReadGenerationAsync(http, model, chat: false);
        using var _ = document;
        var body = document.RootElement;
        bool echo = RequestFields.Bool(body, "echo", false);
        var (prompts, promptTexts) = ReadPrompts(body, model);
        using var run = new RequestRun(model, prompts, parameters, promptLogprobs: echo && parameters.TopLogprobs is not null, "prompt", http.RequestAborted);
        await new CompletionResponse(model, run, parameters, echo ? promptTexts : null).RespondAsync(http);
    }

    /// <summary>The prompts as ids, and as text (for echo).</summary>
    private static (List<int[]> Ids, List<string> Texts) ReadPrompts(JsonElement body, ServedModel model)
    {
        if (!RequestFields.TryGet(body, "prompt", out var prompt))
            throw OpenAiException.BadRequest("You must provide a prompt.", "prompt", "missing_required_parameter");
        var ids = new List<int[]>();
        var texts = new List<string>();
        void AddText(string text)
        {
            ids.Add(model.Encode(text));
            texts.Add(text);
        }
        void AddIds(int[] tokens)
        {
            ids.Add(tokens);
            texts.Add(model.Tokenizer.Decode(tokens));
        }
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                AddText(prompt.GetString()!);
                break;
            case JsonValueKind.Array when prompt.GetArrayLength() == 0:
                throw OpenAiException.BadRequest("The prompt list is empty.", "prompt");
            case JsonValueKind.Array when prompt[0].ValueKind == JsonValueKind.Number:
                AddIds(TokenIds(prompt, "prompt", model));
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String) AddText(item.GetString()!);
                    else if (item.ValueKind == JsonValueKind.Array) AddIds(TokenIds(item, $"prompt[{i}]", model));
                    else throw RequestFields.TypeError($"prompt[{i}]", "a string or an array of token ids", item);
                    i++;
                }
                break;
            default:
                throw RequestFields.TypeError("prompt", "a string, an array of strings or an array of token ids", prompt);
        }
        return (ids, texts);
    }

    private static int[] TokenIds(JsonElement list, string param, ServedModel model)
    {
        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id)) throw RequestFields.TypeError($"{param}[{i}]", "a token id (integer)", item);
            if ((uint)id >= (uint)model.Tokenizer.VocabSize)
                throw OpenAiException.BadRequest($"Invalid '{param}[{i}]': token id {id} is outside the vocabulary [0, {model.Tokenizer.VocabSize}).", param, "invalid_token_id");
            ids[i++] = id;
        }
        return ids;
    }
}
