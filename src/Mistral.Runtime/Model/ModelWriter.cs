using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model.Pth;

namespace Mistral.Runtime.Model;

/// <summary>
/// Writes a model given as native tensors (e.g. base weights with LoRA merged) as a new model directory in the same
/// layout and stored dtype as a source directory, so it loads wherever the source loads: native safetensors, native
/// .pth, or HF (names and layout through the family's <see cref="Models.CheckpointSchema"/>, e.g. Mistral's q/k rows
/// permuted back for rotate-half, GPT-2's q|k|v fused back into c_attn and Conv1D weights [in, out]; tied tensors
/// omitted; sharded into as many shards as the source had: <see cref="HfWeightsWriter"/>). Weights are written first
/// and the config last, each file atomically; tokenizer and generation files are copied. Tensors are requested one at a time, so a whole model never has to be in memory.
/// </summary>
public static class ModelWriter
{
    /// <summary>Small files copied verbatim from the source directory when present.</summary>
    private static readonly string[] SideFiles =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"];

    /// <param name="nativeTensor">Supplies each tensor by native name, in any float dtype; it is converted to the source's stored dtype (round to nearest even).</param>
    public static void Write(ModelDirectory source, string destination, Func<string, HostTensor> nativeTensor)
    {
        if (Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(source.DirectoryPath).TrimEnd(Path.DirectorySeparatorChar))
            throw new ArgumentException($"{destination}: is the source model directory; write the new model to another folder", nameof(destination));
        Directory.CreateDirectory(destination);

        var dtype = source.StoredDType;
        var expected = source.Schema.Stored.ToList();
        var produce = Converting(nativeTensor, dtype);

        switch (source.Layout)
        {
            case ModelLayout.NativeSafeTensors:
                SafeTensorsWriter.Write(Path.Combine(destination, ModelDirectory.ConsolidatedSafeTensors),
                    expected.Select(e => new TensorSpec(e.Name, dtype, e.Shape)).ToList(), i => produce(expected[i].Name, expected[i].Shape),
                    new Dictionary<string, string> { ["format"] = "pt" });
                break;
            case ModelLayout.NativePth:
                PthWriter.Write(Path.Combine(destination, ModelDirectory.ConsolidatedPth),
                    expected.Select(e => new TensorSpec(e.Name, dtype, e.Shape)).ToList(), i => produce(expected[i].Name, expected[i].Shape));
                break;
            case ModelLayout.HuggingFace:
                var names = source.Schema.Hf ?? throw new CheckpointFormatException(source.DirectoryPath,
                    $"writing a {source.Family.Name} model in the Hugging Face layout is not supported yet");
                HfWeightsWriter.Write(destination, names, expected, dtype, produce, source.IsSharded ? source.WeightFiles.Count : 1);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Layout, "unknown layout");
        }

        foreach (var file in SideFiles.Append(Path.GetFileName(source.ConfigPath)))
        {
            string from = Path.Combine(source.DirectoryPath, file);
            if (File.Exists(from))
                AtomicFile.Write(Path.Combine(destination, file), stream => { using var s = File.OpenRead(from); s.CopyTo(stream); });
        }
    }

    /// <summary>
    /// <paramref name="nativeTensor"/> checked against the name and shape asked for and converted to
    /// <paramref name="dtype"/> (round to nearest even when narrowing).
    /// </summary>
    internal static Func<string, Shape, HostTensor> Converting(Func<string, HostTensor> nativeTensor, DType dtype) => (name, shape) =>
    {
        var t = nativeTensor(name);
        if (t.Name != name || !t.Shape.Equals(shape))
            throw new ArgumentException($"model writer asked for '{name}' {shape} and got '{t.Name}' {t.Shape}");
        return t.DType == dtype ? t : HostTensor.FromFloat32(name, t.ToFloat32(), shape, dtype);
    };
}
