using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A fused c_attn tensor in engine layout ([3C, C] weight or [3C] bias) as consecutive row blocks, one per part of
/// <see cref="Gpt2TensorNames.QkvSplit"/>: split at load, fused back at write. Raw bytes, so exact in any dtype.
/// </summary>
internal static class QkvRows
{
    /// <summary>The parts as views of <paramref name="fused"/>'s bytes, in order.</summary>
    public static IReadOnlyList<HostTensor> Split(HostTensor fused, IReadOnlyList<(string Name, Shape Shape)> parts)
    {
        var result = new HostTensor[parts.Count];
        long offset = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            long bytes = parts[i].Shape.ElementCount * fused.DType.SizeOf();
            result[i] = new HostTensor(parts[i].Name, fused.DType, parts[i].Shape, fused.Data.Slice((int)offset, (int)bytes));
            offset += bytes;
        }
        if (offset != fused.Data.Length)
            throw new ArgumentException($"tensor '{fused.Name}' {fused.Shape} is not the rows of {string.Join(", ", parts.Select(p => $"'{p.Name}' {p.Shape}"))}", nameof(parts));
        return result;
    }

    /// <summary>The parts' rows one after another, as a new owned tensor <paramref name="name"/> of shape <paramref name="shape"/>.</summary>
    public static HostTensor Fuse(string name, Shape shape, IReadOnlyList<HostTensor> parts)
    {
        var dtype = parts[0].DType;
        if (parts.Any(p => p.DType != dtype))
            throw new ArgumentException($"the parts of '{name}' have different dtypes: {string.Join(", ", parts.Select(p => $"'{p.Name}' {p.DType}"))}", nameof(parts));
        var bytes = new byte[shape.ElementCount * dtype.SizeOf()];
        int offset = 0;
        foreach (var part in parts)
        {
            if (offset + part.Bytes.Length > bytes.Length)
                throw new ArgumentException($"the parts of '{name}' hold more than {shape}", nameof(parts));
            part.Bytes.CopyTo(bytes.AsSpan(offset));
            offset += part.Bytes.Length;
        }
        if (offset != bytes.Length)
            throw new ArgumentException($"the parts of '{name}' hold less than {shape}", nameof(parts));
        return new HostTensor(name, dtype, shape, bytes);
    }
}
