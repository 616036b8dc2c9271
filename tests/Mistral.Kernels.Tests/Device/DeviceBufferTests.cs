using Mistral.Kernels.Device;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Device;

/// <summary>Ownership of device memory: the live-allocation counter, copies, views, and the device freeing leftovers.</summary>
public sealed class DeviceBufferTests
{
    [Theory]
    [InlineData("emu")]
    [InlineData("cuda")]
    public void Allocate_ThenDispose_LiveCounterReturnsToStart(string kind)
    {
        using var device = TestDevices.Open(kind);
        int start = device.LiveAllocations;
        long startBytes = device.LiveBytes;
        var buffers = new[] { device.Allocate(4), device.Allocate(1000), device.Allocate(0) };
        Assert.Equal(start + 3, device.LiveAllocations);
        Assert.Equal(startBytes + 1004, device.LiveBytes);
        foreach (var b in buffers) b.Dispose();
        buffers[0].Dispose(); // twice is harmless
        Assert.Equal(start, device.LiveAllocations);
        Assert.Equal(startBytes, device.LiveBytes);
    }

    [Theory]
    [InlineData("emu")]
    [InlineData("cuda")]
    public void CopyRoundTrip_ThroughSlices_KeepsValues(string kind)
    {
        using var device = TestDevices.Open(kind);
        using var buffer = device.Allocate(10 * sizeof(int));
        var all = buffer.AsSpan<int>();
        device.Memset(all.Cast<uint>(), 7u);
        device.CopyToDevice<int>(new[] { 1, 2, 3 }, all.Slice(4, 3));
        device.Copy(all.Slice(4, 3), all.Slice(0, 3));
        var host = new int[10];
        device.CopyToHost(all, host);
        Assert.Equal(new[] { 1, 2, 3, 7, 1, 2, 3, 7, 7, 7 }, host);
    }

    [Fact]
    public void Dispose_Device_FreesBuffersStillAlive()
    {
        var device = TestDevices.Emulated();
        var forgotten = device.Allocate(64);
        device.Dispose();
        Assert.True(forgotten.IsDisposed);
        Assert.Equal(0, device.LiveAllocations);
    }

    [Fact]
    public void Slice_OutOfRange_Throws()
    {
        var span = new DeviceSpan<float>(0x1000, 10);
        Assert.Equal(0x1000UL + 8, span.Slice(2, 3).Pointer);
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(8, 3));
        Assert.Throws<ArgumentException>(() => new DeviceSpan<byte>(0x1000, 6).Cast<float>());
    }
}
