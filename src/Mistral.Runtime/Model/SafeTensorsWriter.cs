using System.Text.Json;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>
/// Writes safetensors files (F32/BF16/F16/I32/I64 plus optional __metadata__). The file is written to a temporary
/// name in the destination folder and renamed over the target only when complete, so a crash never leaves half a file.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<HostTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        Write(path, list.Select(TensorSpec.Of).ToList(), i => list[i], metadata);
    }

    /// <summary>
    /// Streaming form: the header comes from <paramref name="specs"/>, then <paramref name="produce"/>(i) supplies tensor i
    /// (which must match its spec), so a whole model never has to be in memory at once.
    /// </summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, Func<int, HostTensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = BuildHeader(path, specs, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            for (int i = 0; i < specs.Count; i++)
                stream.Write(specs[i].Check(produce(i)).Bytes);
        });
    }

    /// <summary>
    /// JSON header, tensors laid out back to back in the given order, the metadata last, padded with spaces to 8 bytes (as
    /// the safetensors library writes it).
    /// </summary>
    private static byte[] BuildHeader(string path, IReadOnlyList<TensorSpec> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            long offset = 0;
            foreach (var tensor in tensors)
            {
                if (tensor.Name == SafeTensorsHeader.MetadataKey || !names.Add(tensor.Name))
                    throw new ArgumentException($"{path}: tensor name '{tensor.Name}' is reserved or repeated", nameof(tensors));
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.SafeTensorsName());
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape.Dims) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteCount);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteCount;
            }
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
