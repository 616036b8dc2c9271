using Mistral.Kernels.Device;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Device;

/// <summary>
/// Uploads are stream-ordered (staged through the pinned ring, StagingRing): the host waits for the device only when
/// the ring wraps over copies in flight, and for each download. Counted on the emulated device, which stages the same
/// way CudaDevice does.
/// </summary>
public sealed class UploadSynchronisationTests : IDisposable
{
    private readonly EmulatedDevice _device = TestDevices.Emulated();

    [Fact]
    public void CopyToDevice_ManySmallUploads_NoWaitAndDataArrives()
    {
        using var buffer = _device.Allocate(1000 * 16L);
        long before = _device.Synchronizations;
        for (int i = 0; i < 1000; i++)   // 1000 × 16 bytes of 256-byte-aligned chunks: 256 KB of the 8 MiB ring
            _device.CopyToDevice<int>([i, i + 1, i + 2, i + 3], buffer.AsSpan<int>().Slice(4 * i, 4));
        Assert.Equal(before, _device.Synchronizations);

        var back = new int[4000];
        _device.CopyToHost(buffer.AsSpan<int>(), back);
        Assert.Equal(before + 1, _device.Synchronizations);   // the download waits, once
        Assert.Equal(Enumerable.Range(0, 1000).SelectMany(i => new[] { i, i + 1, i + 2, i + 3 }), back);
    }

    [Fact]
    public void CopyToDevice_TwoAndAHalfRings_WaitsAtEachWrapOverCopiesInFlight()
    {
        long ring = StagingRing.DefaultCapacity;
        var data = new byte[2 * ring + ring / 2];
        new Random(7).NextBytes(data);
        using var buffer = _device.Allocate(data.Length);
        _device.Synchronize();   // nothing in flight: the first chunk may start the ring over without waiting
        long before = _device.Synchronizations;

        _device.CopyToDevice<byte>(data, buffer.AsSpan<byte>());   // chunks: ring, ring, half a ring

        Assert.Equal(before + 2, _device.Synchronizations);        // the second and third chunk each start the ring over
        var back = new byte[data.Length];
        _device.CopyToHost(buffer.AsSpan<byte>(), back);
        Assert.Equal(data, back);
    }

    public void Dispose() => _device.Dispose();
}
