using System.Text.Json;

namespace Mistral.Testing;

/// <summary>One line of a tokenizer fixture's cases.jsonl: the text, the ids the reference produced, and whether BOS was added.</summary>
public sealed record TokenizerCase(int Line, string Text, int[] Ids, bool AddBos)
{
    /// <summary>Short, printable form of the text for failure messages (escapes controls, clips long texts).</summary>
    public string Label
    {
        get
        {
            var text = JsonSerializer.Serialize(Text.Length > 60 ? Text[..60] + "…" : Text);
            return $"line {Line}: {text}";
        }
    }

    /// <summary>Reads cases.jsonl (or another file of the same form) from a tokenizer fixture directory.</summary>
    public static IReadOnlyList<TokenizerCase> Load(string fixtureDir, string fileName = "cases.jsonl")
    {
        var cases = new List<TokenizerCase>();
        var line = 0;
        foreach (var json in File.ReadLines(Path.Combine(fixtureDir, fileName)))
        {
            line++;
            if (json.Length == 0)
                continue;
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            cases.Add(new TokenizerCase(
                line,
                root.GetProperty("text").GetString()!,
                root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("add_bos").GetBoolean()));
        }
        return cases;
    }
}
