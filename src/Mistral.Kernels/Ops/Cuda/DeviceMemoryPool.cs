using Mistral.Kernels.Device;
using Mistral.Kernels.Native;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The activation arena of <see cref="CudaOps"/>: device memory taken from the driver in a few large slabs (the first
/// one as large as the caller reserves, else grown on demand) and handed out in 256-byte granules.
/// A returned block goes to a free list of its exact size, so a model step that allocates and frees the same
/// tensors every token reuses the same memory without calling the driver: after the first step,
/// <see cref="SlabCount"/> stops growing (the tests assert it).
/// </summary>
public sealed class DeviceMemoryPool : IDisposable
{
    public const long Granule = 256;
    /// <summary>Smallest slab taken when the arena runs out (fewer, larger driver allocations).</summary>
    public const long MinimumGrowth = 64L << 20;

    private readonly IDevice _device;
    private readonly List<DeviceBuffer> _slabs = [];
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly Lock _gate = new();
    private DeviceBuffer? _current;
    private long _currentUsed;

    public DeviceMemoryPool(IDevice device, long reserveBytes = 0)
    {
        _device = device;
        if (reserveBytes > 0) AddSlab(RoundUp(reserveBytes));
    }

    /// <summary>Driver allocations made so far.</summary>
    public int SlabCount
    {
        get { lock (_gate) return _slabs.Count; }
    }

    /// <summary>Bytes taken from the driver.</summary>
    public long ReservedBytes
    {
        get { lock (_gate) return _slabs.Sum(s => s.ByteLength); }
    }

    /// <summary>Bytes currently rented out.</summary>
    public long InUseBytes { get; private set; }

    /// <summary>
    /// Makes sure at least <paramref name="bytes"/> more can be rented without another driver allocation (a caller
    /// that knows what a run will need sizes the arena once, at load).
    /// </summary>
    public void Reserve(long bytes)
    {
        lock (_gate)
        {
            long left = _current is null ? 0 : _current.ByteLength - _currentUsed;
            if (bytes > left) AddSlab(RoundUp(bytes));
        }
    }

    public DeviceSpan<byte> Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = RoundUp(Math.Max(bytes, 1));
        lock (_gate)
        {
            InUseBytes += size;
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0) return new DeviceSpan<byte>(stack.Pop(), bytes);
            if (_current is null || _currentUsed + size > _current.ByteLength) AddSlab(Math.Max(size, MinimumGrowth));
            ulong pointer = _current!.Pointer + (ulong)_currentUsed;
            _currentUsed += size;
            return new DeviceSpan<byte>(pointer, bytes);
        }
    }

    public void Return(DeviceSpan<byte> block)
    {
        long size = RoundUp(Math.Max(block.Length, 1));
        lock (_gate)
        {
            InUseBytes -= size;
            if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new Stack<ulong>();
            stack.Push(block.Pointer);
        }
    }

    private void AddSlab(long bytes)
    {
        DeviceBuffer slab;
        try
        {
            slab = _device.Allocate(bytes);
        }
        catch (CudaException e) when (e.Status == "CUDA_ERROR_OUT_OF_MEMORY")
        {
            throw new DeviceOutOfMemoryException(bytes, _device.LiveBytes, _device.Info.TotalMemoryBytes, e);
        }
        catch (OutOfMemoryException e)   // the emulated device's host memory
        {
            throw new DeviceOutOfMemoryException(bytes, _device.LiveBytes, _device.Info.TotalMemoryBytes, e);
        }
        _slabs.Add(slab);
        _current = slab;
        _currentUsed = 0;
    }

    private static long RoundUp(long bytes) => (bytes + Granule - 1) / Granule * Granule;

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var slab in _slabs) slab.Dispose();
            _slabs.Clear();
            _free.Clear();
            _current = null;
        }
    }
}
