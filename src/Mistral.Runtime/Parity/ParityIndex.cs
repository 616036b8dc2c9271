using System.Text.Json;

namespace Mistral.Runtime.Parity;

/// <summary>
/// A parity fixture's index.json (format_version 1): the model directories it describes and its cases.
/// Each case keeps its raw JSON; the case kind that runs it reads the fields it needs.
/// </summary>
public sealed class ParityIndex
{
    public const int SupportedFormatVersion = 1;

    private ParityIndex(string fixtureDir, string name, IReadOnlyList<(string Layout, string Dir)> models, IReadOnlyList<ParityCase> cases)
    {
        FixtureDir = fixtureDir;
        Name = name;
        ModelDirs = models;
        Cases = cases;
    }

    public string FixtureDir { get; }
    public string Name { get; }

    /// <summary>Model layouts in index order ("native", "hf", …) with absolute directories.</summary>
    public IReadOnlyList<(string Layout, string Dir)> ModelDirs { get; }

    public IReadOnlyList<ParityCase> Cases { get; }

    /// <summary>Reads FIXTURE_DIR/index.json; throws <see cref="ParityFormatException"/> naming the file and field on bad input.</summary>
    public static ParityIndex Load(string fixtureDir)
    {
        string path = Path.Combine(fixtureDir, "index.json");
        if (Model.RegularFile.Problem(path) is string problem)
            throw new ParityFormatException(path, File.Exists(path) ? problem : "file not found (expected a parity fixture directory holding index.json)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new ParityFormatException(path, $"invalid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ParityFormatException(path, "the top level must be an object");
            if (!root.TryGetProperty("format_version", out var version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != SupportedFormatVersion)
                throw new ParityFormatException(path, $"format_version must be {SupportedFormatVersion}");
            string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileName(Path.GetFullPath(fixtureDir));

            var models = new List<(string, string)>();
            if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object)
                foreach (var layout in model.EnumerateObject())
                    if (layout.Value.ValueKind == JsonValueKind.Object && layout.Value.TryGetProperty("dir", out var dir) && dir.ValueKind == JsonValueKind.String)
                        models.Add((layout.Name, Path.GetFullPath(Path.Combine(fixtureDir, dir.GetString()!))));

            if (!root.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
                throw new ParityFormatException(path, "'cases' must be an array");
            var list = new List<ParityCase>();
            int i = 0;
            foreach (var c in cases.EnumerateArray())
            {
                string where = $"cases[{i++}]";
                if (c.ValueKind != JsonValueKind.Object) throw new ParityFormatException(path, $"{where} must be an object");
                string caseName = RequiredString(c, "name", path, where);
                string kind = RequiredString(c, "kind", path, $"{where} ('{caseName}')");
                list.Add(new ParityCase(caseName, kind, c.Clone(), path));
            }
            return new ParityIndex(Path.GetFullPath(fixtureDir), name, models, list);
        }
    }

    private static string RequiredString(JsonElement obj, string field, string path, string where) =>
        obj.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new ParityFormatException(path, $"{where}: '{field}' must be a string");
}
