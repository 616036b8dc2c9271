using System.Buffers.Binary;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Writes a flat token file (ids back to back, <see cref="TokenDType"/> little-endian, no header) under a temporary name;
/// <see cref="Commit"/> cuts it to whole blocks and renames it into place, so a reader never sees a partial file.
/// Disposing without Commit deletes the temporary file.
/// </summary>
public sealed class TokenFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string _temp;
    private readonly FileStream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;
    private bool _committed;

    public TokenFileWriter(string path, TokenDType dtype)
    {
        _path = path;
        _temp = path + ".tmp";
        DType = dtype;
        _stream = new FileStream(_temp, FileMode.Create, FileAccess.Write, FileShare.None);
    }

    public TokenDType DType { get; }
    public int BytesPerToken => DType == TokenDType.UInt16 ? 2 : 4;
    /// <summary>Tokens appended so far.</summary>
    public long Count { get; private set; }

    public static TokenDType DTypeFor(int vocabSize) => vocabSize <= ushort.MaxValue + 1 ? TokenDType.UInt16 : TokenDType.UInt32;

    public void Append(ReadOnlySpan<int> ids)
    {
        uint max = DType == TokenDType.UInt16 ? ushort.MaxValue : uint.MaxValue;
        foreach (var id in ids)
        {
            if (id < 0 || (uint)id > max) throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id does not fit {DType}");
            if (_used + BytesPerToken > _buffer.Length) Flush();
            if (DType == TokenDType.UInt16) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_used), (ushort)id);
            else BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), (uint)id);
            _used += BytesPerToken;
        }
        Count += ids.Length;
    }

    /// <summary>Keeps the first <paramref name="tokens"/> tokens (the whole blocks), syncs and renames the file into place.</summary>
    public void Commit(long tokens)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokens, Count);
        Flush();
        _stream.SetLength(tokens * BytesPerToken);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_temp, _path, overwrite: true);
        _committed = true;
    }

    private void Flush()
    {
        _stream.Write(_buffer, 0, _used);
        _used = 0;
    }

    public void Dispose()
    {
        if (_committed) return;
        _stream.Dispose();
        File.Delete(_temp);
    }
}
