using System.Text.Json;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// Reads one F32 tensor from a fixture .safetensors file: 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}}, then the data. Kept minimal and test-only so the op tests do not depend on the
/// runtime's loader; trusted input (our own fixtures).
/// </summary>
internal static class FixtureTensorReader
{
    public static (float[] Values, int[] Shape) ReadF32(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var entry = header.RootElement.GetProperty(name);
        if (entry.GetProperty("dtype").GetString() != "F32") throw new InvalidDataException($"{path}: {name} is not F32");
        var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        int start = checked((int)(8 + headerLength + offsets[0])), length = checked((int)(offsets[1] - offsets[0]));
        var values = new float[length / 4];
        FloatBits.ToSingle(bytes.AsSpan(start, length), DType.F32, values);
        return (values, shape);
    }
}
