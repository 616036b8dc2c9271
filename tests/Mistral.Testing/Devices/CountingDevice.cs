using Mistral.Kernels.Device;

namespace Mistral.Testing.Devices;

/// <summary>
/// A device that passes everything to another and counts what crosses to it: kernel launches (by name), GEMMs, and
/// the copies between host and device that make the host wait (uploads, downloads) — so a test can hold a decode step
/// to the launches and host round trips its design states. Not thread-safe (one stream, as the ops use it).
/// </summary>
public sealed class CountingDevice(IDevice inner) : IDevice
{
    private readonly List<string> _launches = [];

    /// <summary>Kernel names in launch order since the last <see cref="Reset"/>.</summary>
    public IReadOnlyList<string> Launches => _launches;
    public int Gemms { get; private set; }
    public int Uploads { get; private set; }
    public int Downloads { get; private set; }

    public void Reset()
    {
        _launches.Clear();
        Gemms = Uploads = Downloads = 0;
    }

    public string Name => inner.Name;
    public DeviceInfo Info => inner.Info;
    public IReadOnlyList<(string Label, string Text)> Details => inner.Details;
    public IGraphCapture? GraphCapture => inner.GraphCapture;
    public IDeviceTimer? Timer => inner.Timer;
    public int LiveAllocations => inner.LiveAllocations;
    public long LiveBytes => inner.LiveBytes;

    public DeviceBuffer Allocate(long bytes) => inner.Allocate(bytes);

    public void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        Uploads++;
        inner.CopyToDevice(source, destination);
    }

    public void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        Downloads++;
        inner.CopyToHost(source, destination);
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged => inner.Copy(source, destination);
    public void Memset(DeviceSpan<byte> destination, byte value) => inner.Memset(destination, value);
    public void Memset(DeviceSpan<uint> destination, uint value) => inner.Memset(destination, value);

    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        _launches.Add(kernel);
        inner.Launch(kernel, grid, block, sharedBytes, args);
    }

    public void Gemm(in GemmArgs gemm)
    {
        Gemms++;
        inner.Gemm(gemm);
    }

    public void Synchronize() => inner.Synchronize();

    public void Dispose() => inner.Dispose();
}
