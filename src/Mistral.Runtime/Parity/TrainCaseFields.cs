using System.Text.Json;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Parity;

/// <summary>What the training case kinds (lora_train, full_train) read alike: the case's files, its numbers, device tensors.</summary>
internal static class TrainCaseFields
{
    /// <summary>The case's "files" entry whose path ends with <paramref name="suffix"/>, resolved in the fixture directory.</summary>
    public static string File(ParityCase c, ParityContext context, string suffix)
    {
        foreach (var f in c.Required("files").EnumerateArray())
            if (f.TryGetProperty("file", out var p) && p.GetString() is { } rel && rel.EndsWith(suffix, StringComparison.Ordinal))
                return Path.Combine(context.FixtureDir, rel);
        throw c.Error($"no file ending in '{suffix}' in 'files'");
    }

    public static double Number(ParityCase c, JsonElement obj, string field, int? index = null)
    {
        if (!obj.TryGetProperty(field, out var v)) throw c.Error($"field '{field}' is missing");
        if (index is { } i) v = v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > i ? v[i] : throw c.Error($"field '{field}' needs an entry [{i}]");
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw c.Error($"field '{field}' must be a number");
    }

    public static int Int(ParityCase c, JsonElement obj, string field) => (int)Number(c, obj, field);

    public static float[] Reference(IReadOnlyDictionary<string, HostTensor> file, string name, ParityCase c) =>
        file.TryGetValue(name, out var t) ? t.ToFloat32() : throw c.Error($"reference tensor '{name}' not found");

    public static float[] Download(IOps ops, Tensor t)
    {
        var host = new float[t.ElementCount];
        ops.Download(t, host);
        return host;
    }

    /// <summary>
    /// The verdict over several categories, each against its own tolerance: the reported diff is the category closest to
    /// (or furthest past) its tolerance; the detail lists every category's worst diff.
    /// </summary>
    public static ParityCaseResult Judge(ParityCase c, params (string Name, WorstDiff Diff, double Tolerance)[] parts)
    {
        var (_, worst, worstTol) = parts.MaxBy(p => double.IsNaN(p.Diff.Max) ? double.PositiveInfinity : p.Diff.Max / p.Tolerance);
        string detail = string.Join(", ", parts.Select(p => $"{p.Name} {p.Diff.Max:0.0e+00}")) + $"; worst {worst.Worst}";
        return ParityCaseResult.Judge(c, worst.Max, null, worstTol, detail);
    }
}
