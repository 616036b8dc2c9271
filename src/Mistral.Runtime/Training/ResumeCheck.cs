using System.Globalization;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training;

/// <summary>
/// What --resume checks before it continues a run: every field of the checkpoint's state.json against the config and
/// the data (a tampered step of 10^9 would log NaN and still write a merged model), and the settings that shape the
/// numbers against the config the checkpoint was written with (a changed lr or seq_len silently gives a different run).
/// </summary>
public static class ResumeCheck
{
    /// <param name="saved">the config the checkpoint was written with (its config.yaml): what bounds its counters.</param>
    public static void State(TrainingState state, TrainConfig config, TrainConfig saved, string checkpoint, int windowsPerEpoch)
    {
        var path = Path.Combine(checkpoint, TrainingCheckpoint.StateFile);
        CheckpointFormatException Bad(string field, string problem) => new(path, $"field '{field}': {problem}");

        int folderStep = int.Parse(Path.GetFileName(checkpoint)["step_".Length..], CultureInfo.InvariantCulture);
        if (state.Step != folderStep)
            throw Bad("Step", $"{state.Step}, but the checkpoint folder is step_{folderStep}");
        if (state.Step < 1 || state.Step > config.MaxSteps)
            throw Bad("Step", $"{state.Step} is outside 1..max_steps ({config.MaxSteps})");
        long mostTokens = (long)state.Step * saved.NumMicrobatches * saved.BatchSize * saved.SeqLen;
        if (state.TokensSeen < 0 || state.TokensSeen > mostTokens)
            throw Bad("TokensSeen", $"{state.TokensSeen} is outside 0..{mostTokens} ({state.Step} steps of {saved.NumMicrobatches}×{saved.BatchSize}×{saved.SeqLen} tokens)");
        if (state.DataPosition.Epoch < 0 || state.DataPosition.Window < 0 || state.DataPosition.Window > windowsPerEpoch)
            throw Bad("DataPosition", $"epoch {state.DataPosition.Epoch}, window {state.DataPosition.Window}: the data has {windowsPerEpoch} windows per epoch");
        if (state.DropoutRngState is not { Length: 4 } rng || rng.All(w => w == 0))
            throw Bad("DropoutRngState", "must be four 64-bit words, not all zero (xoshiro256** state)");
        if (state.LoraRank != (saved.Lora?.Rank ?? 0))
            throw Bad("LoraRank", $"{state.LoraRank}, but its config.yaml says {(saved.Lora is { } l ? $"lora.rank {l.Rank}" : "lora: null (0)")}");
        if (state.LoraScaling != (float)(saved.Lora?.Scaling ?? 0))
            throw Bad("LoraScaling", $"{state.LoraScaling}, but its config.yaml says lora.scaling {saved.Lora?.Scaling ?? 0}");
        if (!string.Equals(Path.GetFullPath(state.InitialModelPath), Path.GetFullPath(config.InitialModelPath), StringComparison.Ordinal))
            throw Bad("InitialModelPath", $"'{state.InitialModelPath}', but the config's initial_model_path is '{config.InitialModelPath}'");
    }

    /// <summary>The settings that differ between the checkpoint's config.yaml and this run's config, as "key old -> new".</summary>
    public static IReadOnlyList<string> ConfigChanges(TrainConfig saved, TrainConfig now)
    {
        var changes = new List<string>();
        void Compare<T>(string key, T before, T after)
        {
            if (!EqualityComparer<T>.Default.Equals(before, after))
                changes.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {before} -> {after}"));
        }
        Compare("optim.lr", saved.Optim.Lr, now.Optim.Lr);
        Compare("optim.weight_decay", saved.Optim.WeightDecay, now.Optim.WeightDecay);
        Compare("optim.betas[0]", saved.Optim.Beta1, now.Optim.Beta1);
        Compare("optim.betas[1]", saved.Optim.Beta2, now.Optim.Beta2);
        Compare("optim.eps", saved.Optim.Eps, now.Optim.Eps);
        Compare("optim.schedule", saved.Optim.Schedule, now.Optim.Schedule);
        Compare("optim.warmup_steps", saved.Optim.WarmupSteps, now.Optim.WarmupSteps);
        Compare("optim.pct_start", saved.Optim.PctStart, now.Optim.PctStart);
        Compare("lora", saved.Lora is null ? "null" : "adapters", now.Lora is null ? "null" : "adapters");
        if (saved.Lora is { } before && now.Lora is { } after)
        {
            Compare("lora.rank", before.Rank, after.Rank);
            Compare("lora.scaling", before.Scaling, after.Scaling);
            Compare("lora.dropout", before.Dropout, after.Dropout);
            Compare("lora.targets", string.Join(",", before.Targets), string.Join(",", after.Targets));
            Compare("lora.train_norms", before.TrainNorms, after.TrainNorms);
        }
        Compare("seq_len", saved.SeqLen, now.SeqLen);
        Compare("batch_size", saved.BatchSize, now.BatchSize);
        Compare("num_microbatches", saved.NumMicrobatches, now.NumMicrobatches);
        Compare("seed", saved.Seed, now.Seed);
        Compare("max_grad_norm", saved.MaxGradNorm, now.MaxGradNorm);
        return changes;
    }
}
