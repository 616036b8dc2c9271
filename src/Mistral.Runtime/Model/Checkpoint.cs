using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>Where a tensor lives and what it is, without reading its data. StoredName: its name in the file when that differs (HF).</summary>
public sealed record TensorInfo(string Name, DType DType, Shape Shape, string FilePath, string? StoredName = null);

/// <summary>
/// A model's tensors under their family's native names, whatever layout holds them on disk.
/// Tensors returned by <see cref="Read"/> may view memory-mapped files: valid until the checkpoint is disposed.
/// </summary>
public abstract class Checkpoint : IDisposable
{
    /// <summary>Every tensor by native name.</summary>
    public abstract IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>The weight files, in the order they were opened (shard order for sharded checkpoints).</summary>
    public virtual IReadOnlyList<string> Files => Tensors.Values.Select(t => t.FilePath).Distinct().ToList();

    /// <summary>True when the weights come from shards listed in an index file.</summary>
    public virtual bool IsSharded => false;

    /// <summary>The tensor in native layout (e.g. Mistral's HF q/k rows already un-permuted). A missing name names the file(s).</summary>
    public abstract HostTensor Read(string nativeName);

    public abstract void Dispose();

    /// <summary>The error for a tensor the model needs and the checkpoint lacks.</summary>
    protected static CheckpointFormatException MissingTensor(string where, string nativeName, string? storedName = null) =>
        new(where, storedName is null || storedName == nativeName
            ? $"tensor '{nativeName}' not found"
            : $"tensor '{storedName}' (native '{nativeName}') not found");
}

/// <summary>A native consolidated.safetensors: names are already native.</summary>
public sealed class NativeSafeTensorsCheckpoint : Checkpoint
{
    private readonly SafeTensorsFile _file;

    public NativeSafeTensorsCheckpoint(string path)
    {
        _file = SafeTensorsFile.Open(path);
        Tensors = _file.Names.ToDictionary(n => n, n =>
        {
            var (dtype, shape) = _file.Describe(n);
            return new TensorInfo(n, dtype, shape, path);
        }, StringComparer.Ordinal);
    }

    public override IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    public override HostTensor Read(string nativeName) =>
        _file.TryGet(nativeName, out var t) ? t : throw MissingTensor(_file.FilePath, nativeName);

    public override void Dispose() => _file.Dispose();
}
