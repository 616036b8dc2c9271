using System.Text.Json;

namespace Mistral.Serving.Http;

/// <summary>
/// Typed reads of the fields of a request body, with OpenAI's errors: a wrong JSON type is "invalid_type", a number out
/// of range names its bound; both name the field as "param". An absent or null field takes its default; fields the
/// server does not know are never read (ignored, as OpenAI does).
/// </summary>
internal static class RequestFields
{
    public static bool TryGet(JsonElement body, string name, out JsonElement value) =>
        body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public static int? Int(JsonElement body, string name, int? fallback, int min, int max = int.MaxValue)
    {
        if (!TryGet(body, name, out var value)) return fallback;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || d != Math.Floor(d))
            throw TypeError(name, "an integer", value);
        if (d < min) throw OpenAiException.BadRequest($"Invalid '{name}': integer below minimum value. Expected a value >= {min}, but got {value.GetRawText()} instead.", name, "integer_below_min_value");
        if (d > max) throw OpenAiException.BadRequest($"Invalid '{name}': integer above maximum value. Expected a value <= {max}, but got {value.GetRawText()} instead.", name, "integer_above_max_value");
        return (int)d;
    }

    public static float Float(JsonElement body, string name, float fallback, double min, double max, bool minExclusive = false)
    {
        if (!TryGet(body, name, out var value)) return fallback;
        if (value.ValueKind != JsonValueKind.Number) throw TypeError(name, "a number", value);
        double d = value.GetDouble();
        if (d < min || (minExclusive && d == min))
            throw OpenAiException.BadRequest($"Invalid '{name}': number below minimum value. Expected a value {(minExclusive ? ">" : ">=")} {min}, but got {value.GetRawText()} instead.", name, "decimal_below_min_value");
        if (d > max) throw OpenAiException.BadRequest($"Invalid '{name}': number above maximum value. Expected a value <= {max}, but got {value.GetRawText()} instead.", name, "decimal_above_max_value");
        return (float)d;
    }

    public static bool Bool(JsonElement body, string name, bool fallback)
    {
        if (!TryGet(body, name, out var value)) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(name, "a boolean", value),
        };
    }

    public static string? String(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw TypeError(name, "a string", value);
    }

    /// <summary>A string or a list of strings (OpenAI's "stop").</summary>
    public static IReadOnlyList<string> Strings(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value)) return [];
        if (value.ValueKind == JsonValueKind.String) return [value.GetString()!];
        if (value.ValueKind != JsonValueKind.Array) throw TypeError(name, "a string or an array of strings", value);
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw TypeError($"{name}[{list.Count}]", "a string", item));
        return list;
    }

    public static OpenAiException TypeError(string name, string expected, JsonElement got) =>
        OpenAiException.BadRequest($"Invalid type for '{name}': expected {expected}, but got {Describe(got)} instead.", name, "invalid_type");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
