using System.Text;
using System.Text.Json;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// Logprobs in OpenAI's two shapes. Completions: parallel lists {tokens, token_logprobs, top_logprobs, text_offset}
/// (a prompt's first token has null logprob and null alternatives). Chat: {content: [{token, logprob, bytes,
/// top_logprobs: [{token, logprob, bytes}]}]}.
/// </summary>
internal static class LogprobsJson
{
    /// <param name="entries">null entries: tokens nothing scored (the first prompt token).</param>
    /// <param name="tokens">the token of each entry (for null entries too).</param>
    /// <param name="textOffsets">each token's character offset in the choice's text (<see cref="TextOffsets"/>).</param>
    public static void WriteCompletion(Utf8JsonWriter json, ServedModel model, IReadOnlyList<int> tokens, IReadOnlyList<LogprobEntry?> entries, IEnumerable<int> textOffsets)
    {
        json.WriteStartObject("logprobs");
        json.WriteStartArray("tokens");
        foreach (int t in tokens) json.WriteStringValue(model.TokenText(t));
        json.WriteEndArray();
        json.WriteStartArray("token_logprobs");
        foreach (var e in entries)
            if (e is null) json.WriteNullValue();
            else json.WriteNumberValue(e.Logprob);
        json.WriteEndArray();
        json.WriteStartArray("top_logprobs");
        foreach (var e in entries)
        {
            if (e is null) { json.WriteNullValue(); continue; }
            json.WriteStartObject();
            foreach (var (token, logprob) in e.Top) json.WriteNumber(model.TokenText(token), logprob);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("text_offset");
        foreach (int offset in textOffsets) json.WriteNumberValue(offset);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>
    /// Offsets of consecutive tokens whose text starts at <paramref name="start"/>, each token as long as its
    /// <see cref="ServedModel.TokenText"/>. An echoed prompt and the completion after it are two runs: the prompt text
    /// need not be as long as its tokens' texts (a SentencePiece first word has no space in the text).
    /// </summary>
    public static IEnumerable<int> TextOffsets(ServedModel model, IEnumerable<int> tokens, int start)
    {
        int offset = start;
        foreach (int t in tokens)
        {
            yield return offset;
            offset += model.TokenText(t).Length;
        }
    }

    public static void WriteChat(Utf8JsonWriter json, ServedModel model, IReadOnlyList<LogprobEntry> entries)
    {
        json.WriteStartObject("logprobs");
        json.WriteStartArray("content");
        foreach (var e in entries)
        {
            json.WriteStartObject();
            WriteChatToken(json, model, e.Token, e.Logprob);
            json.WriteStartArray("top_logprobs");
            foreach (var (token, logprob) in e.Top)
            {
                json.WriteStartObject();
                WriteChatToken(json, model, token, logprob);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteChatToken(Utf8JsonWriter json, ServedModel model, int token, float logprob)
    {
        string text = model.TokenText(token);
        json.WriteString("token", text);
        json.WriteNumber("logprob", logprob);
        json.WriteStartArray("bytes");
        foreach (byte b in Encoding.UTF8.GetBytes(text)) json.WriteNumberValue(b);
        json.WriteEndArray();
    }
}
