using System.Text.Json;

namespace Mistral.Runtime.Model;

/// <summary>
/// Typed, checked access to the fields of a JSON config object. Every failure names the file and the field and says
/// what was expected, so a user can fix the file without reading code.
/// </summary>
internal sealed class JsonFields
{
    private readonly JsonElement _root;

    private JsonFields(string path, JsonElement root)
    {
        FilePath = path;
        _root = root;
    }

    public string FilePath { get; }

    /// <summary>
    /// Parses a JSON file whose top level must be an object. A key given twice in one object is refused: which of the
    /// two a reader keeps is an accident (model.safetensors.index.json, params.json). The document is copied, so
    /// nothing needs disposing.
    /// </summary>
    public static JsonFields Load(string path)
    {
        if (RegularFile.Problem(path) is string problem)
            throw new CheckpointFormatException(path, problem);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"expected a JSON object at the top level, found {doc.RootElement.ValueKind}");
            if (FirstRepeatedKey(doc.RootElement, "") is string repeated)
                throw new CheckpointFormatException(path, $"key '{repeated}' is given twice; which one counts would be an accident, so neither does");
            return new JsonFields(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not valid JSON: {e.Message}", e);
        }
    }

    public JsonElement Root => _root;

    /// <summary>The dotted path of the first key repeated within one object, or null.</summary>
    private static string? FirstRepeatedKey(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
            return element.EnumerateArray().Select((item, i) => FirstRepeatedKey(item, $"{path}[{i}]")).FirstOrDefault(r => r is not null);
        if (element.ValueKind != JsonValueKind.Object)
            return null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            string name = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            if (!seen.Add(property.Name))
                return name;
            if (FirstRepeatedKey(property.Value, name) is string inner)
                return inner;
        }
        return null;
    }

    /// <summary>True when the field exists and is not null.</summary>
    public bool Has(string field) => _root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>True when the field exists, even as null (HF uses an explicit null for "no sliding window").</summary>
    public bool Present(string field) => _root.TryGetProperty(field, out _);

    public int PositiveInt(string field) => PositiveIntOr(field, null) ?? throw Missing(field, "a positive integer");

    public int? PositiveIntOr(string field, int? fallback)
    {
        if (!Has(field)) return fallback;
        var v = _root.GetProperty(field);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long value))
            throw Wrong(field, "a positive integer", v);
        if (value <= 0 || value > int.MaxValue)
            throw new CheckpointFormatException(FilePath, $"field '{field}' = {value} must be a positive integer (at most {int.MaxValue})");
        return (int)value;
    }

    /// <summary>A token id or count that may be zero; null or absent gives <paramref name="fallback"/>.</summary>
    public int? NonNegativeIntOr(string field, int? fallback)
    {
        if (!Has(field)) return fallback;
        var v = _root.GetProperty(field);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long value) || value < 0 || value > int.MaxValue)
            throw Wrong(field, "a non-negative integer", v);
        return (int)value;
    }

    public float PositiveFloat(string field) => PositiveFloatOr(field, null) ?? throw Missing(field, "a positive number");

    public float? PositiveFloatOr(string field, float? fallback)
    {
        if (!Has(field)) return fallback;
        var v = _root.GetProperty(field);
        if (v.ValueKind != JsonValueKind.Number)
            throw Wrong(field, "a positive number", v);
        // One rule for every float field: the value as the engine holds it (fp32) must be positive and finite, so
        // 1e39 (infinity in fp32) and 1e-50 (zero in fp32) are refused like 1e400 and 0.
        float value = v.TryGetDouble(out double parsed) ? (float)parsed : float.PositiveInfinity;
        if (!(value > 0) || !float.IsFinite(value))
            throw new CheckpointFormatException(FilePath, $"field '{field}' = {v.GetRawText()} must be a positive number that a 32-bit float holds ({float.Epsilon:G3} to {float.MaxValue:G3})");
        return value;
    }

    public bool BoolOr(string field, bool fallback)
    {
        if (!Has(field)) return fallback;
        var v = _root.GetProperty(field);
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(field, "true or false", v),
        };
    }

    public string? StringOrNull(string field)
    {
        if (!Has(field)) return null;
        var v = _root.GetProperty(field);
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(field, "a string", v);
    }

    public CheckpointFormatException Missing(string field, string expected) =>
        new(FilePath, $"missing field '{field}' ({expected})");

    private CheckpointFormatException Wrong(string field, string expected, JsonElement actual) =>
        new(FilePath, $"field '{field}' must be {expected}, found {actual.ValueKind} {Abbreviate(actual.GetRawText())}");

    private static string Abbreviate(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
