using System.Globalization;
using System.Text.Json;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// run_dir/checkpoints/step_N/: lora.safetensors (adapters, reference names), norms.safetensors (trained RMSNorm
/// weights), the AdamW exp_avg / exp_avg_sq (<see cref="OptimizerStateFiles"/>: one optimizer.safetensors, or one shard
/// per rank under ZeRO-1), state.json (<see cref="TrainingState"/>) and
/// config.yaml (the effective config), and manifest.json: the SHA-256 of each of those files, checked before any is
/// read back, so a damaged or edited checkpoint is refused naming the file; written, listed and resumed from as
/// <see cref="CheckpointFolders"/> are.
/// </summary>
public static class TrainingCheckpoint
{
    public const string LoraFile = "lora.safetensors";
    public const string NormsFile = "norms.safetensors";
    /// <summary>Every weight of a full-parameter run (state.json LoraRank 0), fp32 under native names.</summary>
    public const string WeightsFile = "weights.safetensors";
    public const string OptimizerFile = OptimizerStateFiles.Replicated;
    public const string StateFile = "state.json";
    public const string ConfigFile = "config.yaml";
    public const string ManifestFile = CheckpointManifest.FileName;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true, AllowDuplicateProperties = false };

    /// <summary>The run's checkpoints/step_N folders.</summary>
    public static CheckpointFolders Folders(string runDir) => new(Path.Combine(runDir, "checkpoints"), "step_", Verify);

    /// <summary>
    /// Writes checkpoint step_N (the optimizer state through <paramref name="writeOptimizer"/>, given the folder;
    /// <paramref name="beforeCommit"/> as in <see cref="CheckpointFolders.Write"/>) and prunes to <paramref name="keepLast"/>.
    /// </summary>
    /// <param name="lora">the adapters; empty in a full-parameter run (LoraRank 0: no lora file).</param>
    /// <param name="weights">trained copies of stored weights: the norms of a LoRA run, or every weight of a full-parameter one.</param>
    public static string Write(string runDir, TrainingState state, IEnumerable<HostTensor> lora, IEnumerable<HostTensor> weights,
        Action<string> writeOptimizer, string effectiveYaml, int? keepLast, Action? beforeCommit = null)
    {
        var folders = Folders(runDir);
        var path = folders.Write(state.Step, temp =>
        {
            var meta = new Dictionary<string, string>
            {
                ["rank"] = state.LoraRank.ToString(CultureInfo.InvariantCulture),
                ["scaling"] = state.LoraScaling.ToString("R", CultureInfo.InvariantCulture),
            };
            if (state.LoraRank > 0) SafeTensorsWriter.Write(Path.Combine(temp, LoraFile), lora, meta);
            var weightList = weights.ToList();
            if (weightList.Count > 0) SafeTensorsWriter.Write(Path.Combine(temp, state.LoraRank > 0 ? NormsFile : WeightsFile), weightList);
            writeOptimizer(temp);
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
            File.WriteAllText(Path.Combine(temp, ConfigFile), effectiveYaml);
        }, beforeCommit);
        if (keepLast is { } keep) folders.KeepLast(keep);
        return path;
    }

    /// <summary>Checks every file of a checkpoint against its manifest.json; throws naming the first that differs.</summary>
    public static void Verify(string checkpoint)
    {
        var listed = CheckpointManifest.Verify(checkpoint, [StateFile, ConfigFile]);
        var path = Path.Combine(checkpoint, ManifestFile);
        if (OptimizerStateFiles.Missing(listed) is { } problem) throw new CheckpointFormatException(path, $"lists {problem}");
        if (!listed.Contains(LoraFile) && !listed.Contains(WeightsFile))   // adapters, or a full-parameter run's weights
            throw new CheckpointFormatException(path, $"does not list {LoraFile}");
    }

    public static TrainingState ReadState(string checkpoint)
    {
        var path = Path.Combine(checkpoint, StateFile);
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "not a training checkpoint (state.json missing)");
        Verify(checkpoint);
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), Json)
                ?? throw new CheckpointFormatException(path, "empty state");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not a valid training state: {e.Message}");
        }
    }

    /// <summary>Trained tensors of a checkpoint by reference name: adapters plus norms (when trained), or every weight of a full-parameter run.</summary>
    public static Dictionary<string, HostTensor> ReadTrained(string checkpoint)
    {
        var weights = Path.Combine(checkpoint, WeightsFile);
        if (File.Exists(weights)) return new Dictionary<string, HostTensor>(SafeTensorsFile.ReadAll(weights), StringComparer.Ordinal);
        var result = new Dictionary<string, HostTensor>(SafeTensorsFile.ReadAll(Path.Combine(checkpoint, LoraFile)), StringComparer.Ordinal);
        var norms = Path.Combine(checkpoint, NormsFile);
        if (File.Exists(norms))
            foreach (var (name, t) in SafeTensorsFile.ReadAll(norms)) result[name] = t;
        return result;
    }
}
