using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// Writes a model directory in the same layout and dtype as its source with some weights replaced: every other file
/// (params.json / config.json, tokenizer, generation_config.json, the shard index) is copied, every safetensors weight
/// file is rewritten under its own name with the same tensor names, order, dtypes and metadata (so shards stay shards
/// and HF q/k rows are permuted back). A native .pth source is written as consolidated.safetensors (what the loader
/// reads first; torch.save's pickle format is not written). Built in a temporary sibling folder and renamed at the end.
/// </summary>
public static class MergedModelWriter
{
    /// <param name="replacements">native name → fp32 values in native row order (see <see cref="LoraMerge"/>).</param>
    public static void Write(ModelDirectory source, IReadOnlyDictionary<string, float[]> replacements, string outputDir)
    {
        var output = Path.GetFullPath(outputDir);
        if (Path.GetFullPath(source.DirectoryPath).TrimEnd('/') == output.TrimEnd('/'))
            throw new ArgumentException($"the merged model cannot overwrite its source {source.DirectoryPath}");
        var temp = output.TrimEnd('/') + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try
        {
            var weightFiles = source.WeightFiles.Select(Path.GetFullPath).ToHashSet();
            foreach (var file in Directory.GetFiles(source.DirectoryPath))
                if (!weightFiles.Contains(Path.GetFullPath(file)))
                    File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));

            var used = new HashSet<string>(StringComparer.Ordinal);
            if (source.Layout == ModelLayout.NativePth)
                WriteNativeFromCheckpoint(source, replacements, Path.Combine(temp, ModelDirectory.ConsolidatedSafeTensors), used);
            else
                foreach (var file in source.WeightFiles)
                    RewriteFile(source, file, replacements, Path.Combine(temp, Path.GetFileName(file)), used);

            var missing = replacements.Keys.Where(k => !used.Contains(k)).ToList();
            if (missing.Count > 0) throw new ArgumentException($"no weight named {string.Join(", ", missing)} in {source.DirectoryPath}");

            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            Directory.Move(temp, output);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    private static void RewriteFile(ModelDirectory source, string file, IReadOnlyDictionary<string, float[]> replacements, string target, HashSet<string> used)
    {
        bool hf = source.Layout == ModelLayout.HuggingFace;
        using var st = SafeTensorsFile.Open(file);
        var tensors = new List<HostTensor>();
        foreach (var name in st.Names)
        {
            var stored = st.Get(name);
            var native = hf ? HfTensorNames.ToNative(name) : name;
            if (native is null || !replacements.TryGetValue(native, out var values))
            {
                tensors.Add(new HostTensor(name, stored.DType, stored.Shape, stored.Bytes.ToArray()));
                continue;
            }
            used.Add(native);
            tensors.Add(Replacement(source.Config, stored, native, name, values, hf));
        }
        SafeTensorsWriter.Write(target, tensors, st.Metadata.Count > 0 ? st.Metadata : null);
    }

    private static void WriteNativeFromCheckpoint(ModelDirectory source, IReadOnlyDictionary<string, float[]> replacements, string target, HashSet<string> used)
    {
        var tensors = new List<HostTensor>();
        foreach (var (name, _) in NativeTensorNames.Expected(source.Config))
        {
            if (!source.Checkpoint.Tensors.ContainsKey(name)) continue; // tied output
            var stored = source.Read(name);
            if (replacements.TryGetValue(name, out var values))
            {
                used.Add(name);
                tensors.Add(Replacement(source.Config, stored, name, name, values, hf: false));
            }
            else tensors.Add(new HostTensor(name, stored.DType, stored.Shape, stored.Bytes.ToArray()));
        }
        SafeTensorsWriter.Write(target, tensors);
    }

    // Rounds to the stored dtype (nearest even for bf16/f16, as torch's .to() does), then permutes rows for HF q/k.
    private static HostTensor Replacement(ModelConfig config, HostTensor stored, string native, string storedName, float[] values, bool hf)
    {
        if (values.Length != stored.ElementCount)
            throw new ArgumentException($"merged '{native}' has {values.Length} values, the stored tensor {stored.Shape}");
        var dtype = stored.DType.IsFloat() ? stored.DType : DType.F32;
        var tensor = HostTensor.FromFloat32(storedName, values, stored.Shape, dtype);
        if (hf && HfTensorNames.RopePermutedHeads(native, config) is { } heads)
            tensor = HfRopePermutation.ToHf(tensor, storedName, heads, config.HeadDim);
        return tensor;
    }
}
