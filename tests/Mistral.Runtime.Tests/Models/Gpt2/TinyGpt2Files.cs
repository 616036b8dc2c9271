using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Model.Pth;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Tests.Model;
using Mistral.Testing;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// The tiny-gpt2 fixture's weights as stored (HF names with "transformer.", Conv1D [in, out], fp32), and writers for the
/// other layouts users have, so each test builds its variant in a temp folder from the fixture's own numbers.
/// </summary>
internal static class TinyGpt2Files
{
    public const string Prefix = "transformer.";

    public static string ConfigPath => Path.Combine(Fixtures.TinyGpt2Hf, "config.json");

    /// <summary>The 28 stored tensors of hf/model.safetensors in file order, read into owned arrays.</summary>
    public static IReadOnlyList<HostTensor> Stored()
    {
        string path = Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors");
        using var file = SafeTensorsFile.Open(path);
        var all = SafeTensorsFile.ReadAll(path);
        return file.Names.Select(n => all[n]).ToList();
    }

    /// <summary>
    /// What the loader must give for a canonical name, computed here from the fixture: the stored fp32 values, and for
    /// the four Conv1D weights (CONVENTIONS.md: [in_features, out_features]) their transpose by a plain loop.
    /// </summary>
    public static float[] ExpectedEngineValues(IReadOnlyList<HostTensor> stored, string canonical, out Shape shape)
    {
        var t = stored.Single(s => s.Name == Prefix + canonical);
        var values = t.ToFloat32();
        shape = t.Shape;
        if (!canonical.EndsWith("c_attn.weight", StringComparison.Ordinal) && !canonical.EndsWith("c_proj.weight", StringComparison.Ordinal)
            && !canonical.EndsWith("c_fc.weight", StringComparison.Ordinal))
            return values;
        int inF = t.Shape[0], outF = t.Shape[1];
        var linear = new float[values.Length];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                linear[o * inF + i] = values[i * outF + o];
        shape = new Shape(outF, inF);
        return linear;
    }

    public static HostTensor Renamed(HostTensor t, string name) => new(name, t.DType, t.Shape, t.Data);

    public static IReadOnlyList<HostTensor> WithoutPrefix(IEnumerable<HostTensor> tensors) =>
        tensors.Select(t => Renamed(t, t.Name.StartsWith(Prefix, StringComparison.Ordinal) ? t.Name[Prefix.Length..] : t.Name)).ToList();

    public static IReadOnlyList<HostTensor> As(IEnumerable<HostTensor> tensors, DType dtype) =>
        tensors.Select(t => HostTensor.FromFloat32(t.Name, t.ToFloat32(), t.Shape, dtype)).ToList();

    /// <summary>GPT2LMHeadModel's lm_head.weight: the same values as wte (the tied head).</summary>
    public static HostTensor LmHeadFrom(IReadOnlyList<HostTensor> tensors) =>
        Renamed(tensors.Single(t => t.Name.EndsWith("wte.weight", StringComparison.Ordinal)), "lm_head.weight");

    /// <summary>The buffers older GPT2Attention registered: attn.bias the causal mask [1, 1, P, P], attn.masked_bias −1e4 [].</summary>
    public static IReadOnlyList<HostTensor> WithBuffers(IReadOnlyList<HostTensor> tensors, DType maskType)
    {
        const int positions = 64;
        var mask = new byte[positions * positions * maskType.SizeOf()];
        for (int i = 0; i < positions; i++)
            for (int j = 0; j <= i; j++)
            {
                if (maskType == DType.F32) BitConverter.TryWriteBytes(mask.AsSpan(4 * (i * positions + j)), 1f);
                else mask[i * positions + j] = 1;
            }
        var result = new List<HostTensor>();
        foreach (var t in tensors)
        {
            if (t.Name.EndsWith(".attn.c_attn.weight", StringComparison.Ordinal))
            {
                string block = t.Name[..^"c_attn.weight".Length];
                result.Add(new HostTensor(block + "bias", maskType, new Shape(1, 1, positions, positions), mask));
                result.Add(HostTensor.FromFloat32(block + "masked_bias", [-1e4f], new Shape()));
            }
            result.Add(t);
        }
        return result;
    }

    /// <summary>A model folder: the fixture's config.json (optionally edited) and nothing else yet.</summary>
    public static string NewModelDir(TempDir dir, Action<JsonObject>? editConfig = null)
    {
        var config = JsonNode.Parse(File.ReadAllText(ConfigPath))!.AsObject();
        editConfig?.Invoke(config);
        File.WriteAllText(dir.File("config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return dir.Path;
    }

    /// <summary>Shards of about equal tensor count plus the index save_pretrained writes beside them.</summary>
    public static void WriteSharded(string directory, IReadOnlyList<HostTensor> tensors, int shards, bool safeTensors)
    {
        string stem = safeTensors ? "model" : "pytorch_model", ext = safeTensors ? "safetensors" : "bin";
        var map = new JsonObject();
        int per = (tensors.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string file = $"{stem}-{s + 1:00000}-of-{shards:00000}.{ext}";
            var part = tensors.Skip(s * per).Take(per).ToList();
            if (safeTensors) SafeTensorsWriter.Write(Path.Combine(directory, file), part);
            else PthWriter.Write(Path.Combine(directory, file), part);
            foreach (var t in part) map[t.Name] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = tensors.Sum(t => t.Bytes.Length) }, ["weight_map"] = map };
        File.WriteAllText(Path.Combine(directory, $"{stem}.{ext}.index.json"), index.ToJsonString());
    }

    /// <summary>Every layout users have, as <see cref="WriteVariant"/> names them.</summary>
    public static readonly string[] Variants =
    [
        "fixture", "safetensors-no-prefix", "safetensors-prefix-lm_head", "safetensors-hub-buffers", "safetensors-bool-buffers",
        "safetensors-sharded", "pytorch-torch-save", "pytorch-pthwriter", "pytorch-sharded", "safetensors-fp16", "pytorch-bf16",
    ];

    /// <summary>The fixture's model written as <paramref name="variant"/> into <paramref name="dir"/> ("fixture": the fixture itself), and its stored dtype.</summary>
    public static (string Directory, DType DType) WriteVariant(TempDir dir, IReadOnlyList<HostTensor> stored, string variant)
    {
        if (variant == "fixture")
            return (Fixtures.TinyGpt2Hf, DType.F32);
        string directory = NewModelDir(dir);
        var plain = WithoutPrefix(stored);
        var withHead = stored.Append(LmHeadFrom(stored)).ToList();
        string safetensors = dir.File(Gpt2Checkpoint.SafeTensorsFileName), bin = dir.File(Gpt2Checkpoint.PytorchFileName);
        var tied = new Dictionary<string, string> { ["lm_head.weight"] = "transformer.wte.weight" };
        switch (variant)
        {
            case "safetensors-no-prefix": SafeTensorsWriter.Write(safetensors, plain); break;
            case "safetensors-prefix-lm_head": SafeTensorsWriter.Write(safetensors, withHead); break;
            case "safetensors-hub-buffers": SafeTensorsWriter.Write(safetensors, WithBuffers(plain, DType.F32)); break;
            case "safetensors-bool-buffers": SafeTensorsWriter.Write(safetensors, WithBuffers(stored, DType.Bool)); break;
            case "safetensors-sharded": WriteSharded(directory, withHead, shards: 3, safeTensors: true); break;
            case "pytorch-torch-save": TorchStateDictWriter.Write(bin, WithBuffers(withHead, DType.Bool), tied); break;
            case "pytorch-pthwriter": PthWriter.Write(bin, plain.Append(LmHeadFrom(plain)).ToList()); break;
            case "pytorch-sharded": WriteSharded(directory, WithBuffers(stored, DType.F32), shards: 2, safeTensors: false); break;
            case "safetensors-fp16": SafeTensorsWriter.Write(safetensors, As(plain, DType.F16)); return (directory, DType.F16);
            case "pytorch-bf16":
                TorchStateDictWriter.Write(bin, WithBuffers(As(withHead, DType.BF16), DType.U8), tied);
                return (directory, DType.BF16);
            default: throw new ArgumentException(variant);
        }
        return (directory, DType.F32);
    }
}
