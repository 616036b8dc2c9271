using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// Hugging Face's Conv1D computes y = x·W + b with W stored [in, out]; the engine's Linear holds W as [out, in]. The
/// transpose happens here, once per tensor at load (and back at write), in the stored dtype (no rounding), never in a forward.
/// </summary>
internal static class Conv1DWeight
{
    /// <summary>A new owned tensor [out, in] named <paramref name="name"/> from a stored [in, out] one.</summary>
    public static HostTensor ToLinear(HostTensor stored, string name) => Transposed(stored, name);

    /// <summary>The inverse, for writing: a new owned tensor [in, out] named <paramref name="name"/> from an engine [out, in] one.</summary>
    public static HostTensor ToConv1D(HostTensor linear, string name) => Transposed(linear, name);

    /// <summary>The matrix transposed as raw elements, so exact in any dtype.</summary>
    private static HostTensor Transposed(HostTensor source, string name)
    {
        if (source.Shape.Rank != 2)
            throw new ArgumentException($"Conv1D weight '{source.Name}' must be 2-D, got {source.Shape}", nameof(source));
        int rows = source.Shape[0], cols = source.Shape[1];
        var bytes = new byte[source.Bytes.Length];
        switch (source.DType.SizeOf())
        {
            case 1: Transpose(source.Bytes, bytes.AsSpan(), rows, cols); break;
            case 2: Transpose(MemoryMarshal.Cast<byte, ushort>(source.Bytes), MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()), rows, cols); break;
            case 4: Transpose(MemoryMarshal.Cast<byte, uint>(source.Bytes), MemoryMarshal.Cast<byte, uint>(bytes.AsSpan()), rows, cols); break;
            default: Transpose(MemoryMarshal.Cast<byte, ulong>(source.Bytes), MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan()), rows, cols); break;
        }
        return new HostTensor(name, source.DType, new Shape(cols, rows), bytes);
    }

    /// <summary>dst[c, r] = src[r, c]; src [rows, cols], dst [cols, rows].</summary>
    private static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = src.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++)
                dst[c * rows + r] = row[c];
        }
    }
}
