using Mistral.Kernels.Tensors;
using Xunit;

namespace Mistral.Kernels.Tests.Tensors;

public class FloatBitsTests
{
    [Theory]
    // bf16 keeps 8 significand bits: 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7 -> ties to even (1.0).
    [InlineData(1f + 1f / 256, 1f)]
    // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 -> ties to even (1 + 2^-6).
    [InlineData(1f + 3f / 256, 1f + 1f / 64)]
    [InlineData(1f + 1f / 256 + 1f / 65536, 1f + 1f / 128)]
    [InlineData(-2.5f, -2.5f)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(3.4e38f, float.PositiveInfinity)] // past the midpoint (3.3962e38) between the largest bf16 and 2^128: rounds to infinity
    [InlineData(3.3961e38f, 3.38953139e38f)] // just below that midpoint: the largest finite bf16
    public void SingleToBFloat16_RoundsToNearestEven(float input, float expected)
    {
        Assert.Equal(expected, FloatBits.BFloat16ToSingle(FloatBits.SingleToBFloat16(input)));
    }

    [Fact]
    public void SingleToBFloat16_NaN_StaysNaN()
    {
        Assert.True(float.IsNaN(FloatBits.BFloat16ToSingle(FloatBits.SingleToBFloat16(float.NaN))));
        // A NaN whose payload sits only in the low 16 bits must not truncate to infinity.
        Assert.True(float.IsNaN(FloatBits.BFloat16ToSingle(FloatBits.SingleToBFloat16(BitConverter.Int32BitsToSingle(0x7F80_0001)))));
    }

    [Fact]
    public void ToSingle_Bf16Bytes_UpcastsExactly()
    {
        byte[] raw = [0x80, 0x3F, 0x20, 0xC0]; // 0x3F80 = 1.0, 0xC020 = -2.5
        var dst = new float[2];
        FloatBits.ToSingle(raw, DType.BF16, dst);
        Assert.Equal([1f, -2.5f], dst);
    }
}
