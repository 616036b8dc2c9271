using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// Folds trained LoRA adapters into the base weights: W' = W + scaling · (B · A), in fp32 on the host, in native row
/// order (the writer re-applies the HF permutation). Trained norm weights replace the stored ones as they are.
/// </summary>
public static class LoraMerge
{
    /// <summary>
    /// Native name → merged fp32 values for every weight the training changed. <paramref name="trained"/> holds
    /// "{module}.lora_A.weight" / "{module}.lora_B.weight" pairs and trained copies of stored weights (the norms of a LoRA
    /// run, every weight of a full-parameter one: they replace the stored tensor), as checkpoints store them;
    /// <paramref name="source"/> names the file they came from in errors.
    /// </summary>
    public static Dictionary<string, float[]> MergedWeights(ModelDirectory model, IReadOnlyDictionary<string, HostTensor> trained, float scaling, string source)
    {
        var merged = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in trained)
        {
            if (name.EndsWith(".lora_A.weight", StringComparison.Ordinal))
            {
                var module = name[..^".lora_A.weight".Length];
                var bName = LoraAdapter.BName(module);
                if (!trained.TryGetValue(bName, out var b)) throw new CheckpointFormatException(source, $"'{name}' has no matching '{bName}'");
                var weightName = module + ".weight";
                if (!model.Checkpoint.Tensors.TryGetValue(weightName, out var info))
                    throw new CheckpointFormatException(source, $"adapter '{module}' names no weight of the model in {model.DirectoryPath}");
                merged[weightName] = Merge(model.Read(weightName).ToFloat32(), info.Shape[0], info.Shape[1], tensor, b, scaling, source);
            }
            else if (!name.EndsWith(".lora_B.weight", StringComparison.Ordinal))
            {
                if (!model.Checkpoint.Tensors.TryGetValue(name, out var info))
                    throw new CheckpointFormatException(source, $"unexpected tensor '{name}' (expected LoRA A/B or a weight of the model in {model.DirectoryPath})");
                if (!info.Shape.Equals(tensor.Shape))
                    throw new CheckpointFormatException(source, $"weight '{name}' {tensor.Shape} does not match the model in {model.DirectoryPath} ({info.Shape})");
                merged[name] = tensor.ToFloat32();
            }
        }
        // A merged model that holds NaN or infinity would be refused by every loader: refuse to write it at all.
        foreach (var (name, values) in merged)
            if (Array.FindIndex(values, v => !float.IsFinite(v)) is var bad and >= 0)
                throw new CheckpointFormatException(source, $"merging gives {values[bad]} at element {bad} of '{name}': the adapters diverged; nothing was written");
        return merged;
    }

    /// <summary>
    /// Writes the base model with <paramref name="merged"/> weights (native name → fp32) swapped in, in the base model's
    /// layout and stored dtype (<see cref="ModelWriter"/>), so it loads wherever the base model loads.
    /// </summary>
    public static void WriteMergedModel(ModelDirectory model, IReadOnlyDictionary<string, float[]> merged, string destination) =>
        ModelWriter.Write(model, destination, name =>
            merged.TryGetValue(name, out var values)
                ? HostTensor.FromFloat32(name, values, model.Checkpoint.Tensors[name].Shape)
                : model.Read(name));

    /// <summary>W [out, in] + scaling · B [out, r] · A [r, in], accumulated in fp64 and rounded once to fp32.</summary>
    public static float[] Merge(float[] w, int outDim, int inDim, HostTensor a, HostTensor b, float scaling, string source)
    {
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2 || a.Shape[1] != inDim || b.Shape[0] != outDim || a.Shape[0] != b.Shape[1])
            throw new CheckpointFormatException(source,
                $"'{a.Name}' {a.Shape} and '{b.Name}' {b.Shape} do not fit a [{outDim}, {inDim}] weight (need A [r, {inDim}], B [{outDim}, r])");
        int rank = a.Shape[0];
        var av = a.ToFloat32();
        var bv = b.ToFloat32();
        var result = new float[w.Length];
        for (int o = 0; o < outDim; o++)
            for (int i = 0; i < inDim; i++)
            {
                double delta = 0;
                for (int r = 0; r < rank; r++) delta += (double)bv[o * rank + r] * av[r * inDim + i];
                result[o * inDim + i] = (float)(w[o * inDim + i] + scaling * delta);
            }
        return result;
    }
}
