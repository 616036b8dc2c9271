using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>
/// A named tensor on the host as a file stores it: dtype, row-major shape and raw little-endian bytes. The bytes may
/// be a view into a memory-mapped file (valid until that file is disposed) or an owned array. Conversions widen
/// bf16/f16 to fp32 exactly; nothing here rounds unless a method says so.
/// </summary>
public sealed class HostTensor
{
    public HostTensor(string name, DType dtype, Shape shape, ReadOnlyMemory<byte> data)
    {
        long expected = shape.ElementCount * dtype.SizeOf();
        if (data.Length != expected)
            throw new ArgumentException($"tensor '{name}' {dtype}{shape} needs {expected} bytes, got {data.Length}", nameof(data));
        Name = name;
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }
    public DType DType { get; }
    public Shape Shape { get; }

    /// <summary>Raw little-endian element bytes, ElementCount · DType.SizeOf() long.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public ReadOnlySpan<byte> Bytes => Data.Span;
    public long ElementCount => Shape.ElementCount;

    /// <summary>The same bytes under another name (the HF name map renames without copying).</summary>
    public HostTensor WithName(string name) => new(name, DType, Shape, Data);

    /// <summary>Widens a float tensor to fp32 (bf16 and f16 exactly). dst.Length must equal ElementCount.</summary>
    public void ReadFloat32(Span<float> dst)
    {
        if (dst.Length != ElementCount)
            throw new ArgumentException($"tensor '{Name}' has {ElementCount} elements, destination holds {dst.Length}", nameof(dst));
        if (!DType.IsFloat())
            throw new InvalidOperationException($"tensor '{Name}' is {DType}, not a float tensor");
        FloatBits.ToSingle(Bytes, DType, dst);
    }

    /// <summary>
    /// The index of the first NaN or infinity, or -1 when every element is finite (also for integer tensors). Reads the
    /// exponent bits only, a vector at a time: cheap next to reading the tensor from disk.
    /// </summary>
    public long FirstNonFinite() => DType switch
    {
        DType.F32 => FirstAllOnes(MemoryMarshal.Cast<byte, uint>(Bytes), 0x7F80_0000u),
        DType.BF16 => FirstAllOnes(MemoryMarshal.Cast<byte, ushort>(Bytes), (ushort)0x7F80),
        DType.F16 => FirstAllOnes(MemoryMarshal.Cast<byte, ushort>(Bytes), (ushort)0x7C00),
        _ => -1,
    };

    /// <summary>The element a flat index stands for, as [i, j, ...] (for messages).</summary>
    public string IndexOf(long flat)
    {
        var dims = Shape.Dims;
        var index = new long[dims.Length];
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            index[d] = dims[d] == 0 ? 0 : flat % dims[d];
            flat = dims[d] == 0 ? 0 : flat / dims[d];
        }
        return $"[{string.Join(", ", index)}]";
    }

    /// <summary>A float tensor's element as fp32 (for messages).</summary>
    public float ElementAsSingle(long index)
    {
        Span<float> one = stackalloc float[1];
        int size = DType.SizeOf();
        FloatBits.ToSingle(Bytes.Slice(checked((int)(index * size)), size), DType, one);
        return one[0];
    }

    private static long FirstAllOnes<T>(ReadOnlySpan<T> bits, T exponent) where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<T>.Count)
        {
            var mask = new Vector<T>(exponent);
            for (; i <= bits.Length - Vector<T>.Count; i += Vector<T>.Count)
                if (Vector.EqualsAny(new Vector<T>(bits[i..]) & mask, mask))
                    break;
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & exponent) == exponent)
                return i;
        return -1;
    }

    public float[] ToFloat32()
    {
        var result = new float[checked((int)ElementCount)];
        ReadFloat32(result);
        return result;
    }

    /// <summary>Integer tensor (I64 or I32) widened to long.</summary>
    public long[] ToInt64()
    {
        var result = new long[checked((int)ElementCount)];
        switch (DType)
        {
            case DType.I64:
                MemoryMarshal.Cast<byte, long>(Bytes).CopyTo(result);
                break;
            case DType.I32:
                var ints = MemoryMarshal.Cast<byte, int>(Bytes);
                for (int i = 0; i < ints.Length; i++) result[i] = ints[i];
                break;
            default:
                throw new InvalidOperationException($"tensor '{Name}' is {DType}, not an integer tensor");
        }
        return result;
    }

    /// <summary>Integer tensor (I32, or I64 whose values fit in int) as int.</summary>
    public int[] ToInt32()
    {
        if (DType == DType.I32)
            return MemoryMarshal.Cast<byte, int>(Bytes).ToArray();
        var wide = ToInt64();
        var result = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            if (wide[i] is < int.MinValue or > int.MaxValue)
                throw new InvalidOperationException($"tensor '{Name}' element {i} = {wide[i]} does not fit in I32");
            result[i] = (int)wide[i];
        }
        return result;
    }

    /// <summary>
    /// A tensor stored as <paramref name="storeAs"/> (F32, BF16 or F16) from fp32 values, rounding to nearest even
    /// when narrowing (<see cref="FloatBits"/>, what torch's .to(bfloat16) does).
    /// </summary>
    public static HostTensor FromFloat32(string name, ReadOnlySpan<float> values, Shape shape, DType storeAs = DType.F32)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"tensor '{name}': {values.Length} values for shape {shape}", nameof(values));
        var bytes = new byte[values.Length * storeAs.SizeOf()];
        switch (storeAs)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
                break;
            case DType.BF16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), FloatBits.SingleToBFloat16(values[i]));
                break;
            case DType.F16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), FloatBits.SingleToHalf(values[i]));
                break;
            default:
                throw new ArgumentException($"tensor '{name}': cannot store floats as {storeAs}", nameof(storeAs));
        }
        return new HostTensor(name, storeAs, shape, bytes);
    }

    public static HostTensor FromInt64(string name, ReadOnlySpan<long> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"tensor '{name}': {values.Length} values for shape {shape}", nameof(values));
        return new HostTensor(name, DType.I64, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    public static HostTensor FromInt32(string name, ReadOnlySpan<int> values, Shape shape)
    {
        if (values.Length != shape.ElementCount)
            throw new ArgumentException($"tensor '{name}': {values.Length} values for shape {shape}", nameof(values));
        return new HostTensor(name, DType.I32, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    public override string ToString() => $"{Name} {DType}{Shape}";
}
