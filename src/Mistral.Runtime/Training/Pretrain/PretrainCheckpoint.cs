using System.Globalization;
using System.Text.RegularExpressions;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// run_dir/checkpoint-N/, Hugging Face Trainer's layout: the model as transformers loads it (config.json,
/// model.safetensors, generation_config.json, tokenizer files), optimizer.safetensors (AdamW exp_avg / exp_avg_sq per
/// parameter and the step), trainer_state.json (<see cref="HfTrainerState"/>), training_state.json
/// (<see cref="PretrainState"/>), train_config.yaml (the effective config) and manifest.json, the SHA-256 of every other
/// file, written last. Each folder is filled as checkpoint-N.tmp and renamed, so a crash (kill -9 included) leaves at
/// most a .tmp folder, which the next run removes. --resume takes the newest folder whose manifest verifies and reports
/// any newer one that does not (a flipped byte, a deleted file), falling back to the one before.
/// </summary>
public static partial class PretrainCheckpoint
{
    public const string Prefix = "checkpoint-";
    public const string TempSuffix = ".tmp";
    public const string ModelFile = "model.safetensors";
    public const string ModelConfigFile = "config.json";
    /// <summary>AdamW's state of a single-rank or ZeRO-0 run; ZeRO-1 writes one file per rank instead (<see cref="OptimizerStateFiles"/>).</summary>
    public const string OptimizerFile = OptimizerStateFiles.Replicated;
    public const string ConfigFile = "train_config.yaml";

    /// <summary>What a complete checkpoint's manifest must list, besides the optimizer state (one file, or one per rank).</summary>
    public static readonly IReadOnlyList<string> RequiredFiles =
        [ModelConfigFile, ModelFile, HfTrainerState.FileName, PretrainState.FileName, ConfigFile];

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex FolderName();

    public static string PathOf(string runDir, int step) => Path.Combine(runDir, Prefix + step.ToString(CultureInfo.InvariantCulture));

    /// <summary>checkpoint-N.tmp, where every rank writes its part of checkpoint N before it is sealed and renamed.</summary>
    public static string TempPathOf(string runDir, int step) => PathOf(runDir, step) + TempSuffix;

    /// <summary>Every checkpoint-N folder of a run (verified or not; no .tmp), oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string runDir)
    {
        if (!Directory.Exists(runDir)) return [];
        return Directory.GetDirectories(runDir)
            .Select(d => (Match: FolderName().Match(Path.GetFileName(d)), Path: d))
            .Where(x => x.Match.Success && int.TryParse(x.Match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(x => (int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture), x.Path))
            .OrderBy(x => x.Item1)
            .ToList();
    }

    /// <summary>
    /// Fills checkpoint-N.tmp with <paramref name="fill"/>, runs <paramref name="beforeCommit"/> (data-parallel: the
    /// barriers between which the other ranks write their optimizer parts there), writes the manifest of every file and
    /// renames it to checkpoint-N (replacing an older folder of that step).
    /// </summary>
    public static string Write(string runDir, int step, Action<string> fill, Action? beforeCommit = null)
    {
        var final = PathOf(runDir, step);
        var temp = TempPathOf(runDir, step);
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        fill(temp);
        beforeCommit?.Invoke(); // before the manifest, so it covers the other ranks' parts too
        CheckpointManifest.Write(temp);
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    /// <summary>Throws <see cref="CheckpointFormatException"/> naming the first file that is missing or differs from the manifest.</summary>
    public static void Verify(string checkpoint)
    {
        var listed = CheckpointManifest.Verify(checkpoint, RequiredFiles);
        if (OptimizerStateFiles.Missing(listed) is { } problem)
            throw new CheckpointFormatException(Path.Combine(checkpoint, CheckpointManifest.FileName), $"lists {problem}");
    }

    /// <summary>Deletes checkpoint-N.tmp folders a killed run left behind; returns their names.</summary>
    public static IReadOnlyList<string> RemoveLeftovers(string runDir)
    {
        if (!Directory.Exists(runDir)) return [];
        var removed = new List<string>();
        foreach (var dir in Directory.GetDirectories(runDir, Prefix + "*" + TempSuffix))
        {
            Directory.Delete(dir, recursive: true);
            removed.Add(Path.GetFileName(dir));
        }
        return removed;
    }

    /// <summary>
    /// The newest checkpoint whose manifest verifies, or null when there is none; each newer one that fails is
    /// reported through <paramref name="skipped"/> with the reason, and passed over.
    /// </summary>
    public static string? LatestValid(string runDir, Action<string, string>? skipped = null)
    {
        foreach (var (_, path) in List(runDir).Reverse())
        {
            try
            {
                Verify(path);
                return path;
            }
            catch (CheckpointFormatException e)
            {
                skipped?.Invoke(path, e.Message);
            }
        }
        return null;
    }
}
