using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>The memory side of <see cref="CudaOps"/> on the emulated device: the arena, conversions on upload/download, fill, OOM.</summary>
public sealed class CudaOpsMemoryTests
{
    [Fact]
    public void Pool_SameTensorsEveryStep_NoNewDriverAllocations()
    {
        using var device = TestDevices.Emulated();
        using var ops = new CudaOps(device, DType.BF16);
        void Step()
        {
            using var a = ops.Allocate(new Shape(7, 33), DType.BF16);
            using var b = ops.Allocate(new Shape(100), DType.F32);
            using var c = ops.Upload([1, 2, 3], new Shape(3));
        }
        Step();
        int segments = ops.Pool.SegmentCount, live = device.LiveAllocations;
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(segments, ops.Pool.SegmentCount);
        Assert.Equal(live, device.LiveAllocations);
        Assert.Equal(0, ops.Pool.AllocatedBytes);
    }

    [Fact]
    public void Allocate_IsZeroAndUploadRoundsToBf16()
    {
        using var device = TestDevices.Emulated();
        using var ops = new CudaOps(device, DType.BF16);
        using var zero = ops.Allocate(new Shape(5), DType.BF16);
        var host = new float[5];
        ops.Download(zero, host);
        Assert.All(host, v => Assert.Equal(0f, v));

        float[] values = [1f, 1.00390625f, 1.01171875f, -3.3f, 65504f];   // ties round to even; 1 + 2^-8 → 1
        using var t = ops.Upload(values, new Shape(5), DType.BF16);
        ops.Download(t, host);
        var expected = values.ToArray();
        FloatBits.RoundToBFloat16(expected);
        Assert.Equal(expected, host);
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    public void Fill_And_Copy_ConvertBetweenDTypes(string dtypeName)
    {
        var dtype = Enum.Parse<DType>(dtypeName);
        using var device = TestDevices.Emulated();
        using var ops = new CudaOps(device, dtype);
        using var x = ops.Allocate(new Shape(3, 5), dtype);
        ops.Fill(x, 0.1f);
        using var wide = ops.Allocate(new Shape(15), DType.F32);
        ops.Copy(x, wide);
        var host = new float[15];
        ops.Download(wide, host);
        float expected = dtype == DType.BF16 ? FloatBits.BFloat16ToSingle(FloatBits.SingleToBFloat16(0.1f)) : 0.1f;
        Assert.All(host, v => Assert.Equal(expected, v));
    }

    [Fact]
    public void Allocate_BeyondMemory_SaysBytesAskedAndHeld()
    {
        using var device = TestDevices.Emulated();
        using var ops = new CudaOps(device, DType.F32);
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => ops.Allocate(new Shape(1 << 23, 1 << 21), DType.F32));   // 2^46 bytes
        Assert.Equal(1L << 46, e.RequestedBytes);
        Assert.Contains("asked for 67108864.0 MiB", e.Message);
        Assert.Contains("this process holds", e.Message);
    }
}
