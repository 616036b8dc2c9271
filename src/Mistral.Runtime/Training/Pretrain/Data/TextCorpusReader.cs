using System.Text;
using System.Text.Json;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Reads pretraining documents. A .jsonl file holds one {"text": "..."} object per line (blank lines skipped; an empty
/// text is a document too: it contributes only its separator, as in the fixture's data case). A .txt file holds one
/// document per blank-line-separated block: lines up to the next line that is empty or all white space, joined with
/// "\n" (a file without blank lines is one document). Lines end at "\n" or "\r\n"; a UTF-8 byte-order mark is skipped.
/// Bad lines — invalid UTF-8, invalid JSON, no "text" string — are skipped and counted; more than
/// maxBadFraction of the non-blank lines stops reading with a <see cref="DataFormatException"/> quoting the first
/// <see cref="JsonlDataset.BadLinesShown"/>.
/// </summary>
public static class TextCorpusReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static CorpusDocuments Read(IReadOnlyList<string> files, double maxBadFraction)
    {
        var documents = new List<string>();
        var bad = new List<BadLine>();
        int lines = 0;
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new DataFormatException(file, "data file not found");
            bool jsonl = Path.GetExtension(file).Equals(".jsonl", StringComparison.OrdinalIgnoreCase);
            var paragraph = new List<string>();
            foreach (var (number, text) in Lines(file))
            {
                bool blank = text is not null && string.IsNullOrWhiteSpace(text);
                if (!blank) lines++;
                if (text is null)
                {
                    bad.Add(new BadLine(file, number, "not valid UTF-8"));
                    continue;
                }
                if (jsonl)
                {
                    if (blank) continue;
                    var (doc, problem) = ParseJsonLine(text);
                    if (doc is not null) documents.Add(doc);
                    else bad.Add(new BadLine(file, number, problem!));
                }
                else if (!blank) paragraph.Add(text);
                else if (paragraph.Count > 0)
                {
                    documents.Add(string.Join('\n', paragraph));
                    paragraph.Clear();
                }
            }
            if (paragraph.Count > 0) documents.Add(string.Join('\n', paragraph));
        }
        if (lines > 0 && bad.Count > maxBadFraction * lines)
        {
            var shown = string.Join("; ", bad.Take(JsonlDataset.BadLinesShown).Select(b => b.ToString()));
            throw new DataFormatException(bad[0].File,
                $"{bad.Count} of {lines} lines are bad (more than the allowed {maxBadFraction:P1}): {shown}");
        }
        return new CorpusDocuments(documents, bad, lines);
    }

    /// <summary>The lines of a file, 1-based, each decoded strictly; null text for a line that is not valid UTF-8.</summary>
    private static IEnumerable<(int Number, string? Text)> Lines(string file)
    {
        var bytes = File.ReadAllBytes(file);
        int start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0, number = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            int next = end < 0 ? bytes.Length : end + 1;
            if (end < 0) end = bytes.Length;
            if (end > start && bytes[end - 1] == '\r') end--;
            number++;
            yield return (number, Decode(bytes, start, end - start));
            start = next;
        }
    }

    private static string? Decode(byte[] bytes, int start, int length)
    {
        try { return StrictUtf8.GetString(bytes, start, length); }
        catch (DecoderFallbackException) { return null; }
    }

    private static (string? Text, string? Problem) ParseJsonLine(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "expected a JSON object");
            return root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                ? (text.GetString()!, null)
                : (null, "expected a \"text\" string");
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON ({e.Message.Split('.')[0]})");
        }
        catch (InvalidOperationException)
        {
            return (null, "\"text\" is not valid Unicode (a lone surrogate escape)");
        }
    }
}
