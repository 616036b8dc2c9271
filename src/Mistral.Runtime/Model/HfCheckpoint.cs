using Mistral.Runtime.Models;

namespace Mistral.Runtime.Model;

/// <summary>
/// A Hugging Face safetensors checkpoint of any family: model.safetensors, or shards listed by
/// model.safetensors.index.json. Exposes the family's native names in native layout through its
/// <see cref="CheckpointSchema"/> (e.g. Mistral's wq/wk rows un-permuted on read; a stored tensor that holds several
/// native ones exposes each), so the native and the HF layout of one model give bit-identical tensors. A tied tensor
/// (output tied to the embeddings) reads as the one it is tied to.
/// </summary>
public sealed class HfCheckpoint : Checkpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly ITensorNameMap _names;
    private readonly List<SafeTensorsFile> _files = [];
    private readonly Dictionary<string, (SafeTensorsFile File, string HfName, int Part)> _byNative = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private bool _sharded;

    private HfCheckpoint(ITensorNameMap names) => _names = names;

    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>True when the weights come from shards listed in model.safetensors.index.json.</summary>
    public override bool IsSharded => _sharded;

    public override IReadOnlyList<string> Files => _files.Select(f => f.FilePath).ToArray();

    /// <summary>Is there an HF weight file (single or index) in this folder?</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, SingleFileName)) || File.Exists(Path.Combine(directory, IndexFileName));

    public static HfCheckpoint Open(string directory, CheckpointSchema schema)
    {
        var checkpoint = new HfCheckpoint(schema.Hf ?? throw new ArgumentException("HfCheckpoint needs the family's Hugging Face name map", nameof(schema)));
        try
        {
            string single = Path.Combine(directory, SingleFileName);
            if (File.Exists(single))
                checkpoint.AddFile(single, hfNames: null);
            else
                checkpoint.OpenShards(directory);
            foreach (var (tied, sameAs) in schema.Tied)
                if (checkpoint._byNative.TryGetValue(sameAs, out var entry))
                {
                    checkpoint._byNative[tied] = entry;
                    checkpoint._tensors[tied] = checkpoint._tensors[sameAs] with { Name = tied };
                }
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public override HostTensor Read(string nativeName)
    {
        if (!_byNative.TryGetValue(nativeName, out var entry))
            throw MissingTensor(string.Join(", ", Files), nativeName, TryHfName(nativeName));
        var tensor = _names.ToNativeLayout(entry.File.Get(entry.HfName))[entry.Part];
        return tensor.Name == nativeName ? tensor : tensor.WithName(nativeName);   // a tied tensor reads as the one it is tied to
    }

    public override void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }

    private string? TryHfName(string nativeName)
    {
        try { return _names.ToStored(nativeName); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>
    /// Opens one safetensors file and maps the given HF names (all of its names when null). A tensor stored twice (in
    /// two shards, or under two names meaning the same weight) is refused: which copy would win is an accident of
    /// file order. <paramref name="shardOf"/>: the index's tensor → shard path map, for the shard files.
    /// </summary>
    private SafeTensorsFile AddFile(string path, IEnumerable<string>? hfNames, IReadOnlyDictionary<string, string>? shardOf = null)
    {
        var file = SafeTensorsFile.Open(path);
        _files.Add(file);
        if (shardOf is not null)
            foreach (var name in file.Names)
                if (shardOf.TryGetValue(name, out var listed) && listed != path)
                    throw new CheckpointFormatException(path, $"holds tensor '{name}', which {IndexFileName} places in {Path.GetFileName(listed)}: the tensor is stored twice");
        foreach (var hfName in hfNames ?? file.Names)
        {
            if (!file.Contains(hfName))
                throw new CheckpointFormatException(path, $"{IndexFileName} places tensor '{hfName}' in this file, but the file does not hold it");
            var (dtype, shape) = file.Describe(hfName);
            var parts = _names.ToNative(hfName, shape);
            for (int part = 0; part < parts.Count; part++)
            {
                var (native, nativeShape) = parts[part];
                if (_tensors.TryGetValue(native, out var earlier))
                    throw new CheckpointFormatException(path, $"tensor '{hfName}' is the same weight as '{earlier.StoredName}' in {Path.GetFileName(earlier.FilePath)} (native '{native}'): stored twice");
                _byNative[native] = (file, hfName, part);
                _tensors[native] = new TensorInfo(native, dtype, nativeShape, path, hfName);
            }
        }
        return file;
    }

    private void OpenShards(string directory)
    {
        string indexPath = Path.Combine(directory, IndexFileName);
        if (!File.Exists(indexPath))
            throw new CheckpointFormatException(directory, $"no {SingleFileName} or {IndexFileName} (Hugging Face weights) in this folder");
        _sharded = true;
        var index = ShardIndex.Load(indexPath);
        foreach (var shard in index.ShardPaths)
            AddFile(shard, index.WeightMap.Where(e => e.Value == shard).Select(e => e.Key), index.WeightMap);
    }
}
