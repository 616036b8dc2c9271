using System.Globalization;
using System.Text.RegularExpressions;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// The numbered checkpoint folders of a run, whatever their layout: PREFIX + N under one root folder (finetune's
/// checkpoints/step_N, train's checkpoint-N), each filled as PREFIX + N.tmp, sealed with the SHA-256
/// <see cref="CheckpointManifest"/> and renamed, so a crash (kill -9 included) leaves at most a .tmp folder, which the
/// next run removes. Resuming takes the newest folder that <paramref name="verify"/> accepts, reporting and passing over
/// any newer one it refuses (a flipped byte, a deleted file), so a damaged checkpoint costs the steps since the one
/// before, not the run.
/// </summary>
/// <param name="root">the folder holding the checkpoint folders.</param>
/// <param name="prefix">the folder name before the step number.</param>
/// <param name="verify">throws <see cref="CheckpointFormatException"/> naming the first file of a checkpoint that is missing or differs.</param>
public sealed class CheckpointFolders(string root, string prefix, Action<string> verify)
{
    public const string TempSuffix = ".tmp";

    public string Root => root;

    /// <summary>root/PREFIX + N, where the checkpoint of step N is (or will be) once complete.</summary>
    public string PathOf(int step) => Path.Combine(root, prefix + step.ToString(CultureInfo.InvariantCulture));

    /// <summary>PREFIX + N.tmp, where every rank writes its part of checkpoint N before it is sealed and renamed.</summary>
    public string TempPathOf(int step) => PathOf(step) + TempSuffix;

    /// <summary>Every PREFIX + N folder (verified or not; no .tmp), oldest first.</summary>
    public IReadOnlyList<(int Step, string Path)> List()
    {
        if (!Directory.Exists(root)) return [];
        var name = new Regex("^" + Regex.Escape(prefix) + @"(\d+)$", RegexOptions.CultureInvariant);
        var found = new List<(int Step, string Path)>();
        foreach (var dir in Directory.GetDirectories(root))
            if (name.Match(Path.GetFileName(dir)) is { Success: true } match
                && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int step))
                found.Add((step, dir));
        return found.OrderBy(c => c.Step).ToList();
    }

    /// <summary>
    /// Fills PREFIX + N.tmp with <paramref name="fill"/>, runs <paramref name="beforeCommit"/> (data-parallel: the
    /// barriers between which the other ranks write their parts there), writes the manifest of every file and renames
    /// it to PREFIX + N (replacing an older folder of that step).
    /// </summary>
    public string Write(int step, Action<string> fill, Action? beforeCommit = null)
    {
        var final = PathOf(step);
        var temp = TempPathOf(step);
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        fill(temp);
        beforeCommit?.Invoke(); // before the manifest, so it covers the other ranks' parts too
        CheckpointManifest.Write(temp);
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    /// <summary>Deletes all but the newest <paramref name="keepLast"/> checkpoints.</summary>
    public void KeepLast(int keepLast)
    {
        foreach (var (_, old) in List().SkipLast(keepLast))
            Directory.Delete(old, recursive: true);
    }

    /// <summary>Deletes the .tmp folders a killed run left behind; returns their names.</summary>
    public IReadOnlyList<string> RemoveLeftovers()
    {
        if (!Directory.Exists(root)) return [];
        var removed = new List<string>();
        foreach (var dir in Directory.GetDirectories(root, prefix + "*" + TempSuffix))
        {
            Directory.Delete(dir, recursive: true);
            removed.Add(Path.GetFileName(dir));
        }
        return removed;
    }

    /// <summary>
    /// The newest checkpoint that verifies, or null when there is none; each newer one that fails is reported through
    /// <paramref name="skipped"/> with the reason, and passed over.
    /// </summary>
    public string? LatestValid(Action<string, string>? skipped = null)
    {
        foreach (var (_, path) in List().Reverse())
        {
            try
            {
                verify(path);
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
