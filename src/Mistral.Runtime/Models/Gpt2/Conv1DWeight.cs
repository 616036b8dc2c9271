using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// Hugging Face's Conv1D computes y = x·W + b with W stored [in, out]; the engine's Linear holds W as [out, in]. The
/// transpose happens here, once per tensor at load, in the stored dtype (no rounding), never in a forward.
/// </summary>
internal static class Conv1DWeight
{
    /// <summary>A new owned tensor [out, in] named <paramref name="name"/> from a stored [in, out] one.</summary>
    public static HostTensor ToLinear(HostTensor stored, string name)
    {
        if (stored.Shape.Rank != 2)
            throw new ArgumentException($"Conv1D weight '{stored.Name}' must be 2-D, got {stored.Shape}", nameof(stored));
        int rows = stored.Shape[0], cols = stored.Shape[1];   // rows = in, cols = out
        var bytes = new byte[stored.Bytes.Length];
        switch (stored.DType.SizeOf())
        {
            case 1: Transpose(stored.Bytes, bytes.AsSpan(), rows, cols); break;
            case 2: Transpose(MemoryMarshal.Cast<byte, ushort>(stored.Bytes), MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()), rows, cols); break;
            case 4: Transpose(MemoryMarshal.Cast<byte, uint>(stored.Bytes), MemoryMarshal.Cast<byte, uint>(bytes.AsSpan()), rows, cols); break;
            default: Transpose(MemoryMarshal.Cast<byte, ulong>(stored.Bytes), MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan()), rows, cols); break;
        }
        return new HostTensor(name, stored.DType, new Shape(cols, rows), bytes);
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
