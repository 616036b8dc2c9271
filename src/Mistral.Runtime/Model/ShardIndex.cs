using System.Text.Json;

namespace Mistral.Runtime.Model;

/// <summary>
/// The index of a sharded Hugging Face checkpoint (model.safetensors.index.json, pytorch_model.bin.index.json): which
/// shard file holds each tensor. Checked on <see cref="Load"/>: every entry names a plain file in the index's folder
/// (a hostile index must not reach other files), that file exists, and no tensor is listed twice (a repeated JSON key,
/// refused by <see cref="JsonFields.Load"/>).
/// </summary>
public sealed class ShardIndex
{
    private ShardIndex(string path, Dictionary<string, string> weightMap, IReadOnlyList<string> shardPaths)
    {
        FilePath = path;
        WeightMap = weightMap;
        ShardPaths = shardPaths;
    }

    public string FilePath { get; }

    /// <summary>Tensor name (as stored) to the full path of the shard holding it.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The distinct shard files, full paths, in ordinal order of their names (model-00001-of-… first).</summary>
    public IReadOnlyList<string> ShardPaths { get; }

    public static ShardIndex Load(string indexPath)
    {
        var index = JsonFields.Load(indexPath);
        if (!index.Root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw index.Missing("weight_map", "an object mapping tensor names to shard files");
        string directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in map.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(indexPath, $"weight_map entry '{item.Name}' must be a file name string, found {item.Value.ValueKind}");
            string shard = item.Value.GetString()!;
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\'))
                throw new CheckpointFormatException(indexPath, $"weight_map entry '{item.Name}' names '{shard}', which is not a plain file name in the model folder");
            weightMap[item.Name] = Path.Combine(directory, shard); // a tensor listed twice: JsonFields.Load refused the repeated key
        }
        if (weightMap.Count == 0)
            throw new CheckpointFormatException(indexPath, "weight_map is empty");
        var shards = weightMap.Values.Distinct().Order(StringComparer.Ordinal).ToArray();
        foreach (var shard in shards)
            if (!File.Exists(shard))
                throw new CheckpointFormatException(shard, $"shard listed in {Path.GetFileName(indexPath)} not found");
        return new ShardIndex(indexPath, weightMap, shards);
    }
}
