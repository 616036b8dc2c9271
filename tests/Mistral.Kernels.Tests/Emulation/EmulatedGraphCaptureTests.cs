using Mistral.Kernels.Device;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops.Cuda;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The emulated graph capture: work is recorded, not run, and replayed with the argument values of capture time
/// (pointers included, so inputs rewritten in place between replays are read); every call a capturing CUDA stream
/// refuses is refused by name.
/// </summary>
public sealed class EmulatedGraphCaptureTests(ProbeDevice probe) : IClassFixture<ProbeDevice>
{
    private const int Threads = 64;
    private readonly EmulatedDevice _device = probe.Device;

    [Fact]
    public void Capture_LaunchAndCopy_RunOnlyOnReplayReadingInputsInPlace()
    {
        var first = Enumerable.Range(0, Threads).Select(i => (float)i).ToArray();
        var second = Enumerable.Range(0, Threads).Select(i => 1000f - 3 * i).ToArray();
        using var x = _device.Allocate(Threads * 4L);
        using var y = _device.Allocate(Threads * 4L);
        using var z = _device.Allocate(Threads * 4L);
        _device.CopyToDevice<float>(first, x.AsSpan<float>());

        using var graph = _device.Capture(() =>
        {
            var args = new KernelArgs();
            args.Add(x.Pointer);
            args.Add(y.Pointer);
            _device.Launch("probe_reverse_static", 1, Threads, 0, args);
            _device.Copy(y.AsSpan<float>(), z.AsSpan<float>());
        });
        Assert.Equal(["launch probe_reverse_static", "copy"], ((EmulatedGraph)graph).Nodes);
        Assert.All(Download(z), v => Assert.True(float.IsNaN(v)));   // still the allocation's NaN poison: nothing ran

        graph.Launch();
        Assert.Equal(first.Reverse(), Download(z));
        _device.CopyToDevice<float>(second, x.AsSpan<float>());       // the step's input rewritten at its address
        graph.Launch();
        Assert.Equal(second.Reverse(), Download(z));
    }

    public static TheoryData<string> RefusedCalls() =>
        ["Synchronize", "Allocate", "freeing", "CopyToDevice", "CopyToHost", "Capture", "pool growth"];

    [Theory]
    [MemberData(nameof(RefusedCalls))]
    public void Capture_CallACapturingStreamRefuses_ThrowsNamingIt(string call)
    {
        using var buffer = _device.Allocate(256);
        var doomed = _device.Allocate(256);
        using var pool = new DeviceMemoryPool(_device);
        var host = new float[64];
        Action refused = call switch
        {
            "Synchronize" => _device.Synchronize,
            "Allocate" => () => _device.Allocate(1024),
            "freeing" => doomed.Dispose,
            "CopyToDevice" => () => _device.CopyToDevice<float>(host, buffer.AsSpan<float>()),
            "CopyToHost" => () => _device.CopyToHost(buffer.AsSpan<float>(), host),
            "Capture" => () => _device.Capture(() => { }),
            "pool growth" => () => pool.Rent(1024),   // an empty pool takes a slab from the device
            _ => throw new ArgumentException(call),
        };

        var e = Assert.Throws<CudaException>(() => _device.Capture(refused));

        Assert.Equal(nameof(CuResult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), e.Status);
        Assert.Contains(call == "pool growth" ? "Allocate" : call, e.Message);
        Assert.Contains("during graph capture", e.Message);
        Assert.False(_device.IsCapturing);   // the failed capture ended: the device runs work again
        doomed.Dispose();
    }

    [Fact]
    public void Capture_BodyCatchesARefusalAndGoesOn_CaptureInvalidatedNamingIt()
    {
        var e = Assert.Throws<CudaException>(() => _device.Capture(() =>
        {
            try { _device.Synchronize(); }
            catch (CudaException) { }
        }));

        Assert.Equal(nameof(CuResult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED), e.Status);
        Assert.Contains("Synchronize", e.Message);
    }

    private float[] Download(DeviceBuffer buffer)
    {
        var values = new float[buffer.ByteLength / 4];
        _device.CopyToHost(buffer.AsSpan<float>(), values);
        return values;
    }
}
