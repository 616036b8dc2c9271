using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// run_dir/checkpoint-N/, Hugging Face Trainer's layout: the model as transformers loads it (config.json,
/// model.safetensors, generation_config.json, tokenizer files), optimizer.safetensors (AdamW exp_avg / exp_avg_sq per
/// parameter and the step), trainer_state.json (<see cref="HfTrainerState"/>), training_state.json
/// (<see cref="PretrainState"/>), train_config.yaml (the effective config) and manifest.json, the SHA-256 of every other
/// file, written last; written, listed and resumed from as <see cref="CheckpointFolders"/> are.
/// </summary>
public static class PretrainCheckpoint
{
    public const string Prefix = "checkpoint-";
    public const string ModelFile = "model.safetensors";
    public const string ModelConfigFile = "config.json";
    /// <summary>AdamW's state of a single-rank or ZeRO-0 run; ZeRO-1 writes one file per rank instead (<see cref="OptimizerStateFiles"/>).</summary>
    public const string OptimizerFile = OptimizerStateFiles.Replicated;
    public const string ConfigFile = "train_config.yaml";

    /// <summary>What a complete checkpoint's manifest must list, besides the optimizer state (one file, or one per rank).</summary>
    public static readonly IReadOnlyList<string> RequiredFiles =
        [ModelConfigFile, ModelFile, HfTrainerState.FileName, PretrainState.FileName, ConfigFile];

    /// <summary>The run's checkpoint-N folders (run_dir itself holds them, as HF Trainer's output_dir does).</summary>
    public static CheckpointFolders Folders(string runDir) => new(runDir, Prefix, Verify);

    /// <summary>Throws <see cref="CheckpointFormatException"/> naming the first file that is missing or differs from the manifest.</summary>
    public static void Verify(string checkpoint)
    {
        var listed = CheckpointManifest.Verify(checkpoint, RequiredFiles);
        if (OptimizerStateFiles.Missing(listed) is { } problem)
            throw new CheckpointFormatException(Path.Combine(checkpoint, CheckpointManifest.FileName), $"lists {problem}");
    }
}
