namespace Mistral.Kernels.Device;

/// <summary>
/// The allocations a device has handed out and not yet freed, with their byte total: what
/// <see cref="IDevice.LiveAllocations"/>/<see cref="IDevice.LiveBytes"/> report, what a device frees on Dispose, and
/// (emulated) whose red zones are checked. One copy of this bookkeeping serves <see cref="CudaDevice"/> and
/// <see cref="EmulatedDevice"/>; they differ only in how memory is obtained and released. Thread-safe.
/// </summary>
internal sealed class LiveAllocations
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, DeviceBuffer> _live = new();
    private long _bytes;

    public int Count
    {
        get { lock (_gate) return _live.Count; }
    }

    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    public void Add(DeviceBuffer buffer)
    {
        lock (_gate)
        {
            _live.Add(buffer.Pointer, buffer);
            _bytes += buffer.ByteLength;
        }
    }

    /// <summary>False when <paramref name="buffer"/> was already removed: its memory must not be released twice.</summary>
    public bool Remove(DeviceBuffer buffer)
    {
        lock (_gate)
        {
            if (!_live.Remove(buffer.Pointer)) return false;
            _bytes -= buffer.ByteLength;
            return true;
        }
    }

    /// <summary>Runs <paramref name="visit"/> on every live buffer while none can be freed.</summary>
    public void ForEach(Action<DeviceBuffer> visit)
    {
        lock (_gate)
            foreach (var buffer in _live.Values) visit(buffer);
    }

    /// <summary>Disposes every buffer still live (each removes itself through its device's free).</summary>
    public void DisposeAll()
    {
        DeviceBuffer[] leftovers;
        lock (_gate) leftovers = _live.Values.ToArray();
        foreach (var buffer in leftovers) buffer.Dispose();
    }

}
