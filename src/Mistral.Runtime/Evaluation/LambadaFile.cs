using System.Text.Json;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Evaluation;

/// <summary>
/// Reads a LAMBADA-style jsonl file: one {"context": "...", "target": "..."} object per line, blank lines skipped.
/// Unlike training data, an evaluation set is not allowed bad lines (a skipped line would change the accuracy
/// silently): any bad line stops the read with a <see cref="DataFormatException"/> naming the file, the number of
/// bad lines and the first few with their line numbers.
/// </summary>
public static class LambadaFile
{
    public static IReadOnlyList<LambadaExample> Read(string path)
    {
        if (RegularFile.Problem(path) is string unreadable) throw new DataFormatException(path, unreadable);
        var examples = new List<LambadaExample>();
        var bad = new List<BadLine>();
        int lines = 0;
        foreach (var (number, line) in Utf8Lines.Read(path))
        {
            if (line is not null && string.IsNullOrWhiteSpace(line)) continue;
            lines++;
            var (example, problem) = line is null ? (null, "not valid UTF-8") : ParseLine(line, path, number);
            if (example is not null) examples.Add(example);
            else bad.Add(new BadLine(path, number, problem!));
        }
        if (bad.Count > 0)
            throw new DataFormatException(path, $"{bad.Count} of {lines} lines are bad: " +
                string.Join("; ", bad.Take(JsonlDataset.BadLinesShown).Select(b => b.ToString())));
        if (examples.Count == 0) throw new DataFormatException(path, "no examples in the file (expected {\"context\": ..., \"target\": ...} lines)");
        return examples;
    }

    private static (LambadaExample?, string?) ParseLine(string line, string path, int number)
    {
        try
        {
            using var json = JsonDocument.Parse(line, new JsonDocumentOptions { AllowDuplicateProperties = false });
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "expected a JSON object");
            if (!root.TryGetProperty("context", out var context) || context.ValueKind != JsonValueKind.String)
                return (null, "expected a \"context\" string");
            if (!root.TryGetProperty("target", out var target) || target.ValueKind != JsonValueKind.String)
                return (null, "expected a \"target\" string");
            if (string.IsNullOrWhiteSpace(context.GetString())) return (null, "\"context\" is empty");
            if (string.IsNullOrWhiteSpace(target.GetString())) return (null, "\"target\" is empty");
            return (new LambadaExample(context.GetString()!, target.GetString()!, path, number), null);
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON ({e.Message.Split('.')[0]})");
        }
    }
}
