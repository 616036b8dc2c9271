using System.Text.Json;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// Documents read from jsonl files in the reference's formats: pretrain lines {"text": "..."} and instruct lines
/// {"interactions": [{"is_user": bool, "text": "..."}, ...]} (at least one non-user turn). Blank lines are skipped.
/// A line that does not parse or has the wrong shape is counted as bad (<see cref="BadLines"/>, with file and line
/// number); more than <c>maxBadFraction</c> of bad lines stops loading with a <see cref="DataFormatException"/>.
/// </summary>
public sealed class JsonlDataset
{
    /// <summary>Bad lines quoted in the error message; the rest are only counted.</summary>
    public const int BadLinesShown = 5;

    private JsonlDataset(List<TrainingDocument> documents, List<BadLine> badLines, int lineCount)
    {
        Documents = documents;
        BadLines = badLines;
        LineCount = lineCount;
    }

    public IReadOnlyList<TrainingDocument> Documents { get; }
    public IReadOnlyList<BadLine> BadLines { get; }
    /// <summary>Non-blank lines read.</summary>
    public int LineCount { get; }

    public static JsonlDataset Load(IEnumerable<string> files, bool instruct, double maxBadFraction)
    {
        var documents = new List<TrainingDocument>();
        var bad = new List<BadLine>();
        int lines = 0;
        foreach (var file in files)
        {
            if (Model.RegularFile.Problem(file) is string unreadable) throw new DataFormatException(file, unreadable);
            int before = documents.Count;
            foreach (var (number, line) in Utf8Lines.Read(file))
            {
                if (line is null)
                {
                    lines++;
                    bad.Add(new BadLine(file, number, "not valid UTF-8"));
                    continue;
                }
                if (string.IsNullOrWhiteSpace(line)) continue;
                lines++;
                var (doc, problem) = ParseLine(line, instruct);
                if (doc is not null) documents.Add(doc);
                else bad.Add(new BadLine(file, number, problem!));
            }
            if (documents.Count == before && !bad.Any(b => b.File == file))
                throw new DataFormatException(file, "no documents in the file");
        }
        if (lines > 0 && bad.Count > maxBadFraction * lines)
        {
            var shown = string.Join("; ", bad.Take(BadLinesShown).Select(b => b.ToString()));
            throw new DataFormatException(bad[0].File,
                $"{bad.Count} of {lines} lines are bad (more than the allowed {maxBadFraction:P1}): {shown}");
        }
        return new JsonlDataset(documents, bad, lines);
    }

    internal static (TrainingDocument? Doc, string? Problem) ParseLine(string line, bool instruct)
    {
        try
        {
            using var json = JsonDocument.Parse(line, new JsonDocumentOptions { AllowDuplicateProperties = false });
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "expected a JSON object");
            return instruct ? ParseInstruct(root) : ParsePretrain(root);
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON ({e.Message.Split('.')[0]})");
        }
    }

    private static (TrainingDocument?, string?) ParsePretrain(JsonElement root)
    {
        if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            return (null, "expected a \"text\" string");
        var s = text.GetString()!;
        return s.Length == 0 ? (null, "\"text\" is empty") : (TrainingDocument.Pretrain(s), null);
    }

    private static (TrainingDocument?, string?) ParseInstruct(JsonElement root)
    {
        if (!root.TryGetProperty("interactions", out var list) || list.ValueKind != JsonValueKind.Array)
            return (null, "expected an \"interactions\" list");
        var turns = new List<Interaction>();
        int i = 0;
        foreach (var turn in list.EnumerateArray())
        {
            if (turn.ValueKind != JsonValueKind.Object
                || !turn.TryGetProperty("is_user", out var isUser) || isUser.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
                || !turn.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                return (null, $"interactions[{i}]: expected {{\"is_user\": bool, \"text\": string}}");
            turns.Add(new Interaction(isUser.GetBoolean(), text.GetString()!));
            i++;
        }
        if (!turns.Any(t => !t.IsUser && t.Text.Length > 0)) return (null, "no non-empty non-user turn to learn from");
        return (TrainingDocument.Instruct(turns), null);
    }
}
