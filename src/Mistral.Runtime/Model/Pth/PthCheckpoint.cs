using System.IO.Compression;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model.Pth;

/// <summary>
/// A native consolidated.00.pth: a torch.save zip archive holding {prefix}/data.pkl (the state dict, read by
/// <see cref="PickleInterpreter"/>) and one raw little-endian storage per tensor under {prefix}/data/{key}.
/// Only contiguous tensors are accepted; storages are read on demand, one tensor at a time.
/// </summary>
public sealed class PthCheckpoint : Checkpoint
{
    /// <summary>A state dict pickle is a few hundred bytes per tensor; anything near this is not one.</summary>
    private const long MaxPickleBytes = 64L * 1024 * 1024;

    private readonly string _path;
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, (PickleTensor Tensor, ZipArchiveEntry Entry)> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private readonly Lock _zipLock = new();

    private PthCheckpoint(string path, ZipArchive zip)
    {
        _path = path;
        _zip = zip;
    }

    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    public static PthCheckpoint Open(string path)
    {
        if (RegularFile.Problem(path) is string problem)
            throw new CheckpointFormatException(path, problem);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            if (StartsWithPickle(path))
                throw new CheckpointFormatException(path, "is in the legacy (before torch 1.6) torch.save format; re-save it with a current torch (zip archive)", e);
            throw new CheckpointFormatException(path, $"not a readable torch.save zip archive (truncated or corrupt): {e.Message}", e);
        }
        var checkpoint = new PthCheckpoint(path, zip);
        try
        {
            checkpoint.ReadStateDict();
            return checkpoint;
        }
        catch (InvalidDataException e)
        {
            checkpoint.Dispose();
            throw new CheckpointFormatException(path, $"corrupt zip archive: {e.Message}", e);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>The legacy format is a bare pickle stream: it starts with the PROTO opcode 0x80.</summary>
    private static bool StartsWithPickle(string path)
    {
        using var s = File.OpenRead(path);
        return s.ReadByte() == 0x80;
    }

    public override HostTensor Read(string nativeName)
    {
        if (!_byName.TryGetValue(nativeName, out var item))
            throw MissingTensor(_path, nativeName);
        var (tensor, entry) = item;
        var info = _tensors[nativeName];
        int elementSize = tensor.Storage.DType.SizeOf();
        long skip = tensor.StorageOffset * elementSize;
        var bytes = new byte[checked((int)(info.Shape.ElementCount * elementSize))];
        lock (_zipLock)
        {
            try
            {
                using var stream = entry.Open();
                ReadExactly(stream, skip, bytes, nativeName);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(_path, $"tensor '{nativeName}': storage '{entry.FullName}' is corrupt: {e.Message}", e);
            }
        }
        return new HostTensor(nativeName, tensor.Storage.DType, info.Shape, bytes);
    }

    public override void Dispose() => _zip.Dispose();

    private void ReadExactly(Stream stream, long skip, byte[] bytes, string name)
    {
        var scratch = new byte[Math.Min(skip, 1 << 20)];
        while (skip > 0)
        {
            int n = stream.Read(scratch, 0, (int)Math.Min(skip, scratch.Length));
            if (n == 0) break;
            skip -= n;
        }
        if (skip > 0 || stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
            throw new CheckpointFormatException(_path, $"tensor '{name}': storage data ends early (truncated)");
    }

    private void ReadStateDict()
    {
        var pickles = _zip.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
        if (pickles.Count != 1)
            throw new CheckpointFormatException(_path, $"expected one data.pkl in the torch.save archive, found {pickles.Count} (not a torch.save zip checkpoint)");
        var pickleEntry = pickles[0];
        string prefix = pickleEntry.FullName[..^"data.pkl".Length];
        CheckByteOrder(prefix);
        if (pickleEntry.Length > MaxPickleBytes)
            throw new CheckpointFormatException(_path, $"{pickleEntry.FullName} is {pickleEntry.Length} bytes, more than a state dict needs ({MaxPickleBytes})");

        var pickleBytes = new byte[pickleEntry.Length];
        using (var s = pickleEntry.Open())
            if (s.ReadAtLeast(pickleBytes, pickleBytes.Length, throwOnEndOfStream: false) != pickleBytes.Length)
                throw new CheckpointFormatException(_path, $"{pickleEntry.FullName} ends early (truncated)");

        string where = $"{_path}:{pickleEntry.FullName}";
        if (PickleInterpreter.Run(where, pickleBytes) is not PickleDict dict)
            throw new CheckpointFormatException(where, "the pickle is not a state dict (expected a dict of tensors)");
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name)
                throw new CheckpointFormatException(where, $"state dict key {key} is not a string");
            if (value is not PickleTensor tensor)
                throw new CheckpointFormatException(where, $"state dict entry '{name}' is not a tensor");
            AddTensor(prefix, name, tensor);
        }
    }

    private void AddTensor(string prefix, string name, PickleTensor tensor)
    {
        var storage = tensor.Storage;
        string storagePath = $"{prefix}data/{storage.Key}";
        var entry = _zip.GetEntry(storagePath)
            ?? throw new CheckpointFormatException(_path, $"tensor '{name}': storage '{storagePath}' is missing from the archive");
        int elementSize = storage.DType.SizeOf();
        if (entry.Length != storage.ElementCount * elementSize)
            throw new CheckpointFormatException(_path, $"tensor '{name}': storage '{storagePath}' holds {entry.Length} bytes, the pickle says {storage.ElementCount} × {elementSize}");

        var dims = new int[tensor.Size.Length];
        Int128 count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            count *= tensor.Size[i];
            if (tensor.Size[i] is < 0 or > int.MaxValue || count > storage.ElementCount)
                throw new CheckpointFormatException(_path, $"tensor '{name}': size [{string.Join(", ", tensor.Size)}] is absurd or larger than its storage of {storage.ElementCount} elements");
            dims[i] = (int)tensor.Size[i];
        }
        var shape = new Shape(dims);
        if (tensor.Stride.Length != dims.Length || !IsContiguous(tensor.Size, tensor.Stride))
            throw new CheckpointFormatException(_path, $"tensor '{name}': size [{string.Join(", ", tensor.Size)}] with stride [{string.Join(", ", tensor.Stride)}] is not contiguous (only contiguous tensors are supported)");
        if (tensor.StorageOffset < 0 || tensor.StorageOffset > storage.ElementCount || shape.ElementCount > storage.ElementCount - tensor.StorageOffset)
            throw new CheckpointFormatException(_path, $"tensor '{name}': {shape.ElementCount} elements at offset {tensor.StorageOffset} run past its storage of {storage.ElementCount}");
        if (!_tensors.TryAdd(name, new TensorInfo(name, storage.DType, shape, _path)))
            throw new CheckpointFormatException(_path, $"tensor '{name}' appears twice in the state dict");
        _byName[name] = (tensor, entry);
    }

    /// <summary>Row-major contiguity as torch defines it: dimensions of size 1 may have any stride.</summary>
    private static bool IsContiguous(long[] size, long[] stride)
    {
        long expected = 1;
        for (int i = size.Length - 1; i >= 0; i--)
        {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    private void CheckByteOrder(string prefix)
    {
        var entry = _zip.GetEntry(prefix + "byteorder");
        if (entry is null) return; // older torch versions wrote no byteorder record and were always little-endian here
        using var reader = new StreamReader(entry.Open());
        string order = reader.ReadToEnd().Trim();
        if (order != "little")
            throw new CheckpointFormatException(_path, $"archive byteorder is '{order}'; only little-endian checkpoints are supported");
    }
}
