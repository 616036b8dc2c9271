using System.IO.MemoryMappedFiles;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// A flat token file read through a memory map, seen as Count blocks of SeqLen tokens (block b = tokens
/// b·SeqLen … (b+1)·SeqLen − 1; a trailing partial block is ignored). Reading a block converts the stored
/// uint16/uint32 ids to int. Thread-safe for reads; dispose to unmap.
/// </summary>
public sealed class TokenBlocks : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;

    public TokenBlocks(string path, TokenDType dtype, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 2);
        Path = path;
        DType = dtype;
        SeqLen = seqLen;
        long bytes = new FileInfo(path).Length;
        TokenCount = bytes / BytesPerToken;
        Count = checked((int)(TokenCount / seqLen));
        if (bytes == 0) return; // an empty file cannot be mapped
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read);
    }

    public string Path { get; }
    public TokenDType DType { get; }
    public int SeqLen { get; }
    public int Count { get; }
    public long TokenCount { get; }
    private int BytesPerToken => DType == TokenDType.UInt16 ? 2 : 4;

    /// <summary>Copies block <paramref name="block"/> into <paramref name="destination"/> [SeqLen].</summary>
    public void Read(int block, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, Count);
        if (destination.Length != SeqLen) throw new ArgumentException($"destination holds {destination.Length} tokens, a block {SeqLen}", nameof(destination));
        long offset = (long)block * SeqLen * BytesPerToken;
        // The file is little-endian, as is every host .NET runs this on (x64, arm64).
        if (DType == TokenDType.UInt16)
        {
            var raw = new ushort[SeqLen];
            _view!.ReadArray(offset, raw, 0, SeqLen);
            for (int i = 0; i < SeqLen; i++) destination[i] = raw[i];
        }
        else
        {
            var raw = new uint[SeqLen];
            _view!.ReadArray(offset, raw, 0, SeqLen);
            for (int i = 0; i < SeqLen; i++) destination[i] = checked((int)raw[i]);
        }
    }

    public int[] Read(int block)
    {
        var tokens = new int[SeqLen];
        Read(block, tokens);
        return tokens;
    }

    /// <summary>
    /// A micro-batch of whole blocks as the trainer takes it: each block is one sequence (positions from 0) with
    /// inputs = block[..^1], targets = block[1..], every target weighted 1 (CONVENTIONS.md "Training loss").
    /// </summary>
    public TrainBatch Batch(IReadOnlyList<int> blocks)
    {
        var windows = blocks.Select(b =>
        {
            var t = Read(b);
            return new PackedWindow(t[..^1], t[1..], Enumerable.Repeat(1f, SeqLen - 1).ToArray(), [SeqLen - 1]);
        }).ToList();
        return TrainBatch.FromWindows(windows);
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
    }
}
