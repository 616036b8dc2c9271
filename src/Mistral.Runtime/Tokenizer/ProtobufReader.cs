namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// The protobuf wire format, just enough of it to walk a SentencePiece ModelProto: tags, varints, 32/64-bit fixed
/// values and length-delimited fields. Every read is bounds-checked; running off the end or meeting a wire type that
/// cannot occur throws <see cref="TokenizerFormatException"/> naming the file and the byte offset.
/// </summary>
internal ref struct ProtobufReader
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _path;
    private readonly int _baseOffset; // offset of _data inside the file, for error messages
    private int _position;

    public ProtobufReader(ReadOnlySpan<byte> data, string path, int baseOffset = 0)
    {
        _data = data;
        _path = path;
        _baseOffset = baseOffset;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Reads the next field's tag; returns (field number, wire type).</summary>
    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var field = tag >> 3;
        if (field == 0 || field > int.MaxValue)
            throw Error($"field number {field} is not valid");
        return ((int)field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
                throw Error("truncated varint");
            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw Error("varint longer than 10 bytes");
    }

    public float ReadFloat()
    {
        var bytes = Take(4);
        return BitConverter.ToSingle(bytes); // protobuf fixed32 is little-endian, as is every .NET target we run on
    }

    /// <summary>A length-delimited field's payload, and its offset in the file for nested error messages.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int fileOffset)
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
            throw Error($"length-delimited field of {length} bytes runs past the end ({_data.Length - _position} bytes left)");
        fileOffset = _baseOffset + _position;
        return Take((int)length);
    }

    public string ReadString()
    {
        var bytes = ReadBytes(out var offset);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new TokenizerFormatException(_path, $"string at byte {offset} is not valid UTF-8", e);
        }
    }

    /// <summary>Skips a field this reader does not need, whatever its wire type.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint: ReadVarint(); break;
            case WireFixed64: Take(8); break;
            case WireLengthDelimited: ReadBytes(out _); break;
            case WireFixed32: Take(4); break;
            default: throw Error($"wire type {wireType} is not valid (groups are not used by ModelProto)");
        }
    }

    /// <summary>Throws unless the field has the wire type the schema gives it.</summary>
    public readonly void Expect(int field, int wireType, int expected, string name)
    {
        if (wireType != expected)
            throw Error($"field {name} (#{field}) has wire type {wireType}, expected {expected}");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
            throw Error($"truncated: needed {count} bytes, {_data.Length - _position} left");
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private readonly TokenizerFormatException Error(string problem) =>
        new(_path, $"not a valid SentencePiece model (protobuf error at byte {_baseOffset + _position}: {problem})");

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
