using System.Buffers;
using System.IO.MemoryMappedFiles;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>
/// A read-only, memory-mapped safetensors file. The header is fully validated on <see cref="Open"/>; tensors are views
/// into the mapping (no copy) and stay valid until this file is disposed (reading one afterwards throws
/// ObjectDisposedException). Use <see cref="ReadAll"/> for small files whose tensors should outlive the file.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;
    private bool _disposed;

    private SafeTensorsFile(string path, MemoryMappedFile mapping, MemoryMappedViewAccessor view, byte* basePointer,
        long dataStart, List<SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        FilePath = path;
        _mapping = mapping;
        _view = view;
        _base = basePointer;
        _dataStart = dataStart;
        _entries = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Names = entries.OrderBy(e => e.Begin).Select(e => e.Name).ToArray();
        Metadata = metadata;
    }

    public string FilePath { get; }

    /// <summary>Tensor names in data-offset order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The optional __metadata__ string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public int Count => _entries.Count;

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Every tensor, in data-offset order.</summary>
    public IEnumerable<HostTensor> Tensors => Names.Select(Get);

    public static SafeTensorsFile Open(string path)
    {
        if (RegularFile.Problem(path) is string problem)
            throw new CheckpointFormatException(path, problem);
        // A symbolic link (the Hugging Face cache's layout) is measured and mapped as its target, not as the link.
        string target = RegularFile.Resolve(path);
        long fileLength = new FileInfo(target).Length;
        Span<byte> prefix = stackalloc byte[8];
        using (var stream = File.OpenRead(target))
            stream.ReadAtLeast(prefix, (int)Math.Min(8, fileLength), throwOnEndOfStream: false);
        long headerLength = SafeTensorsHeader.ReadHeaderLength(path, prefix, fileLength);

        var mapping = MemoryMappedFile.CreateFromFile(target, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            try
            {
                pointer += view.PointerOffset;
                long dataStart = 8 + headerLength;
                var json = new ReadOnlySpan<byte>(pointer + 8, checked((int)headerLength));
                var (entries, metadata) = SafeTensorsHeader.Parse(path, json, fileLength - dataStart);
                return new SafeTensorsFile(path, mapping, view, pointer, dataStart, entries, metadata);
            }
            catch
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                throw;
            }
        }
        catch
        {
            view?.Dispose();
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>Reads every tensor into owned arrays and closes the file (fixtures, small checkpoints).</summary>
    public static IReadOnlyDictionary<string, HostTensor> ReadAll(string path)
    {
        using var file = Open(path);
        var result = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var name in file.Names)
        {
            var view = file.Get(name);
            result[name] = new HostTensor(name, view.DType, view.Shape, view.Bytes.ToArray());
        }
        return result;
    }

    /// <summary>The named tensor as a view into the mapping; a missing name is an error naming the file.</summary>
    public HostTensor Get(string name)
    {
        if (!TryGet(name, out var tensor))
            throw new CheckpointFormatException(FilePath, $"tensor '{name}' not found");
        return tensor;
    }

    public HostTensor this[string name] => Get(name);

    public bool TryGet(string name, out HostTensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out var entry))
        {
            tensor = null!;
            return false;
        }
        if (entry.Length > int.MaxValue)
            throw new CheckpointFormatException(FilePath, $"tensor '{name}' is {entry.Length} bytes; tensors over 2 GiB are not supported");
        var memory = new MappedMemory(this, _base + _dataStart + entry.Begin, (int)entry.Length).Memory;
        tensor = new HostTensor(name, entry.DType, entry.Shape, memory);
        return true;
    }

    /// <summary>dtype and shape without touching the data.</summary>
    public (DType DType, Shape Shape) Describe(string name)
    {
        if (!_entries.TryGetValue(name, out var entry))
            throw new CheckpointFormatException(FilePath, $"tensor '{name}' not found");
        return (entry.DType, entry.Shape);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mapping.Dispose();
    }

    /// <summary>Memory over a slice of the mapping that refuses to hand out spans once the file is closed.</summary>
    private sealed class MappedMemory(SafeTensorsFile owner, byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan()
        {
            ObjectDisposedException.ThrowIf(owner._disposed, owner);
            return new Span<byte>(pointer, length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ObjectDisposedException.ThrowIf(owner._disposed, owner);
            return new MemoryHandle(pointer + elementIndex);
        }

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
