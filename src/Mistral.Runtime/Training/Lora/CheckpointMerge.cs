using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// `mistral-cu merge`: folds a training checkpoint's adapters (and trained norms) into its base model and writes the
/// result in the base model's layout and dtype. The base model and the LoRA scaling come from the checkpoint's
/// state.json unless given.
/// </summary>
public static class CheckpointMerge
{
    /// <summary>A run directory means its latest checkpoint; a checkpoint directory means itself.</summary>
    public static string ResolveCheckpoint(string runOrCheckpoint)
    {
        if (File.Exists(Path.Combine(runOrCheckpoint, TrainingCheckpoint.StateFile))) return runOrCheckpoint;
        // The newest, verified or not: merging is refused when it is damaged rather than quietly taking an older one.
        return TrainingCheckpoint.Folders(runOrCheckpoint).List().LastOrDefault().Path
            ?? throw new CheckpointFormatException(runOrCheckpoint, $"neither a training checkpoint (no {TrainingCheckpoint.StateFile}) nor a run directory with checkpoints/step_N");
    }

    /// <returns>the checkpoint that was merged.</returns>
    public static string Merge(string runOrCheckpoint, string output, string? modelDir = null)
    {
        var checkpoint = ResolveCheckpoint(runOrCheckpoint);
        var state = TrainingCheckpoint.ReadState(checkpoint);
        using var model = ModelDirectory.Open(modelDir ?? state.InitialModelPath);
        var trained = TrainingCheckpoint.ReadTrained(checkpoint);
        var merged = LoraMerge.MergedWeights(model, trained, state.LoraScaling, Path.Combine(checkpoint, TrainingCheckpoint.LoraFile));
        LoraMerge.WriteMergedModel(model, merged, output);
        return checkpoint;
    }
}
