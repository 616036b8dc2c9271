using System.Buffers.Binary;
using System.Text.Json;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>One tensor entry of a safetensors header. Begin/End are byte offsets relative to the data area.</summary>
internal sealed record SafeTensorsEntry(string Name, DType DType, Shape Shape, long Begin, long End)
{
    public long Length => End - Begin;
}

/// <summary>
/// Parses and validates a safetensors header: [u64 LE header length N][N bytes UTF-8 JSON][data area]. Every check
/// the format allows is made here, before any tensor byte is touched, so a hostile file fails with one clear message.
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>The reference implementation's limit; a real header (thousands of tensors) is far below it.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    public const string MetadataKey = "__metadata__";

    /// <summary>Reads the 8-byte length prefix and checks it against the file size. Returns N.</summary>
    public static long ReadHeaderLength(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        if (fileLength < 8)
            throw new CheckpointFormatException(path, $"file is {fileLength} bytes, too short for the 8-byte safetensors header length (truncated or not a safetensors file)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new CheckpointFormatException(path, $"safetensors header length {n} exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
        if ((long)n > fileLength - 8)
            throw new CheckpointFormatException(path, $"safetensors header length {n} runs past the end of the file ({fileLength} bytes): truncated");
        if (n < 2)
            throw new CheckpointFormatException(path, $"safetensors header length {n} is too small to hold a JSON object");
        return (long)n;
    }

    /// <summary>Parses the JSON header and validates every entry against a data area of <paramref name="dataLength"/> bytes.</summary>
    public static (List<SafeTensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        // JsonDocument checks UTF-8 only when a string is materialized; check it all up front instead.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new CheckpointFormatException(path, "safetensors header is not valid JSON: it is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"safetensors header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"safetensors header must be a JSON object, found {doc.RootElement.ValueKind}");

            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointFormatException(path, $"safetensors header names '{property.Name}' twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }
            CheckNoOverlap(path, entries);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, $"safetensors {MetadataKey} must be an object of strings, found {value.ValueKind}");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(path, $"safetensors {MetadataKey} entry '{item.Name}' must be a string, found {item.Value.ValueKind}");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, $"tensor '{name}': header entry must be an object with dtype, shape and data_offsets, found {value.ValueKind}");

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeElement = field.Value; break;
                case "shape": shapeElement = field.Value; break;
                case "data_offsets": offsetsElement = field.Value; break;
                default:
                    throw new CheckpointFormatException(path, $"tensor '{name}': unexpected header field '{field.Name}' (expected dtype, shape, data_offsets)");
            }
        }
        if (dtypeElement is not { ValueKind: JsonValueKind.String } dtypeJson)
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-string 'dtype'");
        if (shapeElement is not { ValueKind: JsonValueKind.Array } shapeJson)
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-array 'shape'");
        if (offsetsElement is not { ValueKind: JsonValueKind.Array } offsetsJson || offsetsJson.GetArrayLength() != 2)
            throw new CheckpointFormatException(path, $"tensor '{name}': 'data_offsets' must be an array [begin, end]");

        var dtype = ParseDType(path, name, dtypeJson.GetString()!);
        var shape = ParseShape(path, name, shapeJson);
        long begin = ReadNonNegative(path, name, "data_offsets", offsetsJson[0]);
        long end = ReadNonNegative(path, name, "data_offsets", offsetsJson[1]);
        if (begin > end)
            throw new CheckpointFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw new CheckpointFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] run past the data area ({dataLength} bytes): truncated or corrupt");

        long expected = ByteLength(path, name, dtype, shape);
        if (end - begin != expected)
            throw new CheckpointFormatException(path, $"tensor '{name}': {dtype}{shape} needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        return new SafeTensorsEntry(name, dtype, shape, begin, end);
    }

    /// <summary>The safetensors spellings mistral-cu reads; any other dtype is named in the error.</summary>
    public static DType ParseDType(string path, string name, string text) => text switch
    {
        "F32" => DType.F32,
        "BF16" => DType.BF16,
        "F16" => DType.F16,
        "I32" => DType.I32,
        "I64" => DType.I64,
        "U8" => DType.U8,
        "BOOL" => DType.Bool,
        _ => throw new CheckpointFormatException(path, $"tensor '{name}' has dtype '{text}', which mistral-cu does not read (supported: F32, BF16, F16, I32, I64, U8, BOOL)"),
    };

    private static Shape ParseShape(string path, string name, JsonElement shapeJson)
    {
        var dims = new int[shapeJson.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long value))
                throw new CheckpointFormatException(path, $"tensor '{name}': shape entry {i} ({d.GetRawText()}) is not an integer");
            if (value < 0)
                throw new CheckpointFormatException(path, $"tensor '{name}': shape has a negative dimension {value}");
            if (value > int.MaxValue)
                throw new CheckpointFormatException(path, $"tensor '{name}': shape dimension {value} is absurd (over {int.MaxValue})");
            dims[i++] = (int)value;
        }
        return new Shape(dims);
    }

    private static long ReadNonNegative(string path, string name, string field, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value) || value < 0)
            throw new CheckpointFormatException(path, $"tensor '{name}': {field} entry {element.GetRawText()} is not a non-negative integer");
        return value;
    }

    /// <summary>dtype size × product of the shape, refusing products that overflow (an absurd shape, not a real tensor).</summary>
    private static long ByteLength(string path, string name, DType dtype, Shape shape)
    {
        Int128 bytes = dtype.SizeOf();
        foreach (var d in shape.Dims)
        {
            bytes *= d;
            if (bytes > long.MaxValue)
                throw new CheckpointFormatException(path, $"tensor '{name}': shape {shape} is absurd (its byte size overflows)");
        }
        return (long)bytes;
    }

    private static void CheckNoOverlap(string path, List<SafeTensorsEntry> entries)
    {
        var byOffset = entries.Where(e => e.Length > 0).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var previous = byOffset[i - 1];
            var current = byOffset[i];
            if (current.Begin < previous.End)
                throw new CheckpointFormatException(path, $"tensors '{previous.Name}' [{previous.Begin}, {previous.End}] and '{current.Name}' [{current.Begin}, {current.End}] overlap");
        }
    }
}
