using System.Text.Json;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Parity;

/// <summary>One entry of index.json's cases: its name, kind and raw JSON, with typed readers that name the field on error.</summary>
public sealed record ParityCase(string Name, string Kind, JsonElement Json, string IndexPath)
{
    public JsonElement Required(string field) =>
        Json.TryGetProperty(field, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? v : throw Error($"field '{field}' is missing");

    public int? OptionalInt(string field) =>
        !Json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i
        : throw Error($"field '{field}' must be an integer or null");

    public int[] IntArray(JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array) throw Error($"field '{field}' must be an array of token ids");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i
            : throw Error($"field '{field}' must hold integers")).ToArray();
    }

    /// <summary>"prompts": [[ids…], …].</summary>
    public int[][] Prompts(string field = "prompts")
    {
        var prompts = Required(field);
        if (prompts.ValueKind != JsonValueKind.Array) throw Error($"field '{field}' must be an array of prompts");
        return prompts.EnumerateArray().Select(p => IntArray(p, field)).ToArray();
    }

    /// <summary>suggested_tolerance.abs (the index's own bound on max abs difference).</summary>
    public double AbsTolerance =>
        Required("suggested_tolerance").TryGetProperty("abs", out var abs) && abs.ValueKind == JsonValueKind.Number
            ? abs.GetDouble() : throw Error("suggested_tolerance.abs must be a number");

    /// <summary>The case's "file" opened from the fixture directory.</summary>
    public SafeTensorsFile OpenFile(string fixtureDir)
    {
        var file = Required("file");
        if (file.ValueKind != JsonValueKind.String) throw Error("field 'file' must be a path relative to the fixture");
        return SafeTensorsFile.Open(Path.Combine(fixtureDir, file.GetString()!));
    }

    /// <summary>A reference tensor widened to fp32, with a clear error when it is missing.</summary>
    public static float[] ReadFloats(SafeTensorsFile file, string name) =>
        file.TryGet(name, out var t) ? t.ToFloat32() : throw new ParityFormatException(file.FilePath, $"tensor '{name}' not found");

    public static int[] ReadInts(SafeTensorsFile file, string name) =>
        file.TryGet(name, out var t) ? t.ToInt32() : throw new ParityFormatException(file.FilePath, $"tensor '{name}' not found");

    public static bool IsFloat(SafeTensorsFile file, string name) => file.Describe(name).DType.IsFloat();

    public ParityFormatException Error(string problem) => new(IndexPath, $"case '{Name}': {problem}");
}
