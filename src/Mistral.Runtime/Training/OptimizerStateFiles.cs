using System.Globalization;
using System.Text.RegularExpressions;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// Where a checkpoint keeps AdamW state: one optimizer.safetensors (ZeRO-0, written by rank 0), or one
/// optimizer.rank{r}-of-{n}.safetensors per rank (ZeRO-1). Tensor names are the same in both ("{param}.exp_avg",
/// "{param}.exp_avg_sq"), so any layout can be read back by any stage and world size: each reader picks its tensors by name.
/// </summary>
public static partial class OptimizerStateFiles
{
    public const string Replicated = "optimizer.safetensors";

    [GeneratedRegex(@"^optimizer\.rank(\d+)-of-(\d+)\.safetensors$")]
    private static partial Regex ShardPattern();

    public static string ShardName(int rank, int worldSize) => $"optimizer.rank{rank}-of-{worldSize}.safetensors";

    /// <summary>Null when <paramref name="fileNames"/> hold a complete optimizer state (the single file, or every shard of one world size); else the problem.</summary>
    public static string? Missing(IReadOnlyCollection<string> fileNames)
    {
        if (fileNames.Contains(Replicated)) return null;
        var shards = Shards(fileNames);
        if (shards.Count == 0) return $"no {Replicated} nor optimizer.rank*-of-*.safetensors";
        int n = shards[0].WorldSize;
        if (shards.Any(s => s.WorldSize != n)) return "optimizer shards of different world sizes";
        var absent = Enumerable.Range(0, n).Where(r => !shards.Any(s => s.Rank == r)).ToList();
        return absent.Count == 0 ? null : $"{ShardName(absent[0], n)} is missing ({absent.Count} of {n} optimizer shards)";
    }

    /// <summary>
    /// The optimizer tensors a rank needs, with the file(s) they came from (for messages): its own shard alone when the
    /// checkpoint was written by ZeRO-1 at this world size (the partition is a function of the world size, so the shard
    /// holds exactly what this rank owns); otherwise every file there is (another stage or world size: re-sharding).
    /// </summary>
    public static (IReadOnlyDictionary<string, HostTensor> State, string Source) Read(string checkpoint, int rank, int worldSize, bool sharded)
    {
        var own = Path.Combine(checkpoint, ShardName(rank, worldSize));
        if (sharded && File.Exists(own)) return (SafeTensorsFile.ReadAll(own), own);
        var single = Path.Combine(checkpoint, Replicated);
        if (File.Exists(single)) return (SafeTensorsFile.ReadAll(single), single);
        var names = Directory.GetFiles(checkpoint).Select(f => Path.GetFileName(f)!).ToList();
        if (Missing(names) is { } problem) throw new CheckpointFormatException(checkpoint, problem);
        var state = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (name, _, _) in Shards(names))
            foreach (var (key, t) in SafeTensorsFile.ReadAll(Path.Combine(checkpoint, name))) state[key] = t;
        return (state, Path.Combine(checkpoint, "optimizer.rank*.safetensors"));
    }

    private static List<(string Name, int Rank, int WorldSize)> Shards(IEnumerable<string> fileNames) =>
        fileNames.Select(n => (Name: n, Match: ShardPattern().Match(n))).Where(x => x.Match.Success)
            .Select(x => (x.Name, int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(x.Match.Groups[2].Value, CultureInfo.InvariantCulture)))
            .OrderBy(x => x.Item2).ToList();
}
