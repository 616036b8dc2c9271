using Mistral.Kernels.Device;

namespace Mistral.Kernels.Tests.Device;

/// <summary>
/// A device that hands out addresses and no memory, for allocator tests that place gigabytes: allocation k starts
/// where allocation k − 1 ended, from <see cref="Base"/> (so expected addresses can be worked out by hand), and an
/// allocation past <see cref="CapacityBytes"/> of live bytes fails as the driver's out-of-memory does. Everything
/// that would touch memory throws.
/// </summary>
internal sealed class AddressOnlyDevice(long capacityBytes = long.MaxValue) : IDevice
{
    public const ulong Base = 0x1_0000_0000;

    private readonly List<DeviceBuffer> _live = [];
    private ulong _next = Base;

    public long CapacityBytes { get; } = capacityBytes;

    /// <summary>The size of every allocation made, in order (freed ones included).</summary>
    public List<long> Allocations { get; } = [];

    public string Name => "address-only";
    public DeviceInfo Info { get; } = new("address-only (no memory)", 90, 1, capacityBytes == long.MaxValue ? 0 : capacityBytes, 0, "none", "none");
    public IReadOnlyList<(string Label, string Text)> Details => [];
    public IGraphCapture? GraphCapture => null;
    public IDeviceTimer? Timer => null;
    public int LiveAllocations => _live.Count;
    public long LiveBytes => _live.Sum(b => b.ByteLength);

    public DeviceBuffer Allocate(long bytes)
    {
        if (LiveBytes + bytes > CapacityBytes) throw new OutOfMemoryException($"address-only device: {bytes} bytes past its {CapacityBytes}");
        var buffer = new DeviceBuffer(this, _next, bytes, b => _live.Remove(b));
        _next += (ulong)bytes;
        _live.Add(buffer);
        Allocations.Add(bytes);
        return buffer;
    }

    public void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged => throw NoMemory();
    public void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged => throw NoMemory();
    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged => throw NoMemory();
    public void Memset(DeviceSpan<byte> destination, byte value) => throw NoMemory();
    public void Memset(DeviceSpan<uint> destination, uint value) => throw NoMemory();
    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args) => throw NoMemory();
    public void Gemm(in GemmArgs gemm) => throw NoMemory();
    public void Synchronize() { }

    public void Dispose()
    {
        foreach (var b in _live.ToArray()) b.Dispose();
    }

    private static NotSupportedException NoMemory() => new("the address-only device has no memory");
}
