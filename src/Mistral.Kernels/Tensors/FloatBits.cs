using System.Runtime.InteropServices;

namespace Mistral.Kernels.Tensors;

/// <summary>
/// bf16 / f16 / f32 conversions with the GPU's rounding (round to nearest, ties to even; NaN stays NaN).
/// Upcasts are exact. These are the host twins of the device conversions in kernels/cu/common.
/// </summary>
public static class FloatBits
{
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort SingleToBFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((u >> 16) | 0x40); // quiet NaN, sign kept
        uint roundingBias = 0x7FFF + ((u >> 16) & 1);
        return (ushort)((u + roundingBias) >> 16);
    }

    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Rounds every element to the nearest bf16 value, in place (what storing in bf16 does).</summary>
    public static void RoundToBFloat16(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = BFloat16ToSingle(SingleToBFloat16(values[i]));
    }

    /// <summary>Widens little-endian raw bytes of a float dtype into fp32.</summary>
    public static void ToSingle(ReadOnlySpan<byte> src, DType srcType, Span<float> dst)
    {
        switch (srcType)
        {
            case DType.F32:
                MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
                break;
            case DType.BF16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = BFloat16ToSingle(s[i]);
                break;
            }
            case DType.F16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = HalfToSingle(s[i]);
                break;
            }
            default:
                throw new ArgumentException($"{srcType} is not a float dtype");
        }
    }
}
