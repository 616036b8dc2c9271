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

    /// <summary>Parses a JSON file whose top level must be an object. The document is copied, so nothing needs disposing.</summary>
    public static JsonFields Load(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "file not found");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"expected a JSON object at the top level, found {doc.RootElement.ValueKind}");
            return new JsonFields(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not valid JSON: {e.Message}", e);
        }
    }

    public JsonElement Root => _root;

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
        double value = v.GetDouble();
        if (!(value > 0) || double.IsInfinity(value))
            throw new CheckpointFormatException(FilePath, $"field '{field}' = {v.GetRawText()} must be a positive finite number");
        return (float)value;
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
