using Mistral.Kernels.Device;
using Mistral.Kernels.Native;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The caching allocator of <see cref="CudaOps"/>, in the manner of PyTorch's: device memory is taken from the driver in
/// segments and carved into blocks. A rent takes the smallest free block that fits (best fit, ties to the lower
/// address), splits off the rest when the rest is worth keeping, and only asks the driver for a new segment when no
/// free block fits; a return merges the block with its free neighbours in the same segment, so holes heal instead of
/// fragmenting. Requests of at most <see cref="SmallRequest"/> share <see cref="SmallSegment"/> segments (the small
/// pool); larger ones come from the large pool, whose segments are <see cref="MediumSegment"/> for requests under
/// <see cref="MediumRequest"/> and the request rounded up to <see cref="LargeRounding"/> above, so a weight that is a
/// multiple of 2 MiB wastes nothing (every 7B matrix of 10 MiB or more; wk and wv, 8 MiB, share a 20 MiB segment). Keeping the two apart stops small, short-lived tensors from
/// pinning the middle of large holes. When the driver is out of memory, segments held wholly free are given back and
/// the allocation is tried once more. Every driver allocation happens in <see cref="AllocateSegment"/> (a graph
/// capture, which must not allocate, sees the pool's allocations there and nowhere else).
/// </summary>
public sealed class DeviceMemoryPool : IDisposable
{
    /// <summary>Every block is a multiple of this and starts on it (the driver's segments start on 256 bytes or more).</summary>
    public const long Granule = 256;
    /// <summary>Requests up to this size go to the small pool.</summary>
    public const long SmallRequest = 1L << 20;
    /// <summary>The size of every small-pool segment.</summary>
    public const long SmallSegment = 2L << 20;
    /// <summary>Large requests below this share a <see cref="MediumSegment"/> segment.</summary>
    public const long MediumRequest = 10L << 20;
    /// <summary>The segment a large request below <see cref="MediumRequest"/> gets (room for a few more of its kind).</summary>
    public const long MediumSegment = 20L << 20;
    /// <summary>Segments for requests of <see cref="MediumRequest"/> or more are the request rounded up to this.</summary>
    public const long LargeRounding = 2L << 20;

    private readonly IDevice _device;
    private readonly Lock _gate = new();
    private readonly List<Segment> _segments = [];
    private readonly FreeBlocks _smallFree = new();
    private readonly FreeBlocks _largeFree = new();
    private readonly Dictionary<ulong, Block> _rented = [];
    private long _reserved, _allocated, _requested, _peakReserved, _peakAllocated;
    private bool _disposed;

    /// <param name="device">Where segments come from.</param>
    /// <param name="reserveBytes">A large-pool segment of this size taken at once (0: none; grow on demand).</param>
    public DeviceMemoryPool(IDevice device, long reserveBytes = 0)
    {
        _device = device;
        if (reserveBytes > 0) Reserve(reserveBytes);
    }

    /// <summary>Segments held (driver allocations not given back).</summary>
    public int SegmentCount
    {
        get { lock (_gate) return _segments.Count; }
    }

    /// <summary>Bytes held from the driver (every segment).</summary>
    public long ReservedBytes
    {
        get { lock (_gate) return _reserved; }
    }

    /// <summary>Bytes of the blocks rented out (requests rounded to the granule, plus any remainder too small to split off).</summary>
    public long AllocatedBytes
    {
        get { lock (_gate) return _allocated; }
    }

    /// <summary>The figures at this moment, taken under one lock.</summary>
    public DeviceMemoryPoolStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                long largestFree = Math.Max(_smallFree.LargestSize, _largeFree.LargestSize);
                return new DeviceMemoryPoolStatistics(_reserved, _allocated, _requested, _peakReserved, _peakAllocated,
                    _segments.Count, _rented.Count, _smallFree.Count + _largeFree.Count, largestFree);
            }
        }
    }

    /// <summary>
    /// Makes sure a rent of up to <paramref name="bytes"/> from the large pool needs no driver allocation (a caller that
    /// knows what a run will need sizes the pool once, at load): adds a segment unless a free large block is that big.
    /// </summary>
    public void Reserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_gate)
        {
            long size = RoundUp(Math.Max(bytes, 1), Granule);
            if (_largeFree.LargestSize < size) Free(AddSegment(RoundUp(size, LargeRounding), small: false));
        }
    }

    /// <summary>A block of at least <paramref name="bytes"/>, Granule-aligned; the span has the length asked for.</summary>
    public DeviceSpan<byte> Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long size = RoundUp(Math.Max(bytes, 1), Granule);
        bool small = size <= SmallRequest;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var free = small ? _smallFree : _largeFree;
            var block = free.BestFit(size) ?? AddSegment(SegmentSize(size), small);
            free.Remove(block);
            // A large-pool remainder of 1 MiB or less stays with the block: such slivers would only fragment the pool.
            long rest = block.Size - size;
            if (small ? rest >= Granule : rest > SmallRequest)
            {
                var tail = new Block(block.Segment, block.Offset + size, rest) { Previous = block, Next = block.Next };
                if (block.Next is { } next) next.Previous = tail;
                block.Next = tail;
                block.Size = size;
                free.Add(tail);
            }
            block.Rented = true;
            block.Requested = bytes;
            _rented.Add(block.Pointer, block);
            _allocated += block.Size;
            _requested += bytes;
            _peakAllocated = Math.Max(_peakAllocated, _allocated);
            return new DeviceSpan<byte>(block.Pointer, bytes);
        }
    }

    /// <summary>A block of at least <paramref name="bytes"/> given back when the result is disposed; nothing for 0 bytes.</summary>
    public PooledMemory RentScoped(long bytes) => bytes == 0 ? default : new PooledMemory(this, Rent(bytes));

    /// <summary>Gives back a block from <see cref="Rent"/>; it merges with free neighbours. After Dispose, a no-op.</summary>
    public void Return(DeviceSpan<byte> memory)
    {
        lock (_gate)
        {
            if (_disposed) return;   // tensors outliving their ops: the segments are gone already
            if (!_rented.Remove(memory.Pointer, out var block))
                throw new InvalidOperationException($"device memory 0x{memory.Pointer:x} was not rented from this pool, or was returned twice");
            _allocated -= block.Size;
            _requested -= block.Requested;
            Free(block);
        }
    }

    /// <summary>Gives every segment that is wholly free back to the driver (PyTorch's empty_cache); returns the bytes released.</summary>
    public long ReleaseCachedSegments()
    {
        lock (_gate) return ReleaseFreeSegments();
    }

    private static long SegmentSize(long size) =>
        size <= SmallRequest ? SmallSegment : size < MediumRequest ? MediumSegment : RoundUp(size, LargeRounding);

    /// <summary>A new segment as one free-to-use block (not yet in a free set); on out-of-memory, cached segments are released and it is tried once more.</summary>
    private Block AddSegment(long bytes, bool small)
    {
        var buffer = AllocateSegment(bytes, retry: true);
        var segment = new Segment(buffer, small);
        _segments.Add(segment);
        _reserved += bytes;
        _peakReserved = Math.Max(_peakReserved, _reserved);
        return new Block(segment, 0, bytes);
    }

    /// <summary>The pool's one call that takes memory from the device.</summary>
    private DeviceBuffer AllocateSegment(long bytes, bool retry)
    {
        try
        {
            return _device.Allocate(bytes);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            if (retry && ReleaseFreeSegments() > 0) return AllocateSegment(bytes, retry: false);
            throw new DeviceOutOfMemoryException(bytes, _device.LiveBytes, _device.Info.TotalMemoryBytes, e);
        }
    }

    // The driver's out-of-memory status, or the emulated device's host memory running out.
    private static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || e is CudaException { Status: "CUDA_ERROR_OUT_OF_MEMORY" };

    /// <summary>Marks <paramref name="block"/> free, merged with its free neighbours, in its pool's free set.</summary>
    private void Free(Block block)
    {
        var free = block.Segment.Small ? _smallFree : _largeFree;
        block.Rented = false;
        block.Requested = 0;
        if (block.Previous is { Rented: false } before)
        {
            free.Remove(before);
            before.Size += block.Size;
            before.Next = block.Next;
            if (block.Next is { } after) after.Previous = before;
            block = before;
        }
        if (block.Next is { Rented: false } next)
        {
            free.Remove(next);
            block.Size += next.Size;
            block.Next = next.Next;
            if (next.Next is { } after) after.Previous = block;
        }
        free.Add(block);
    }

    private long ReleaseFreeSegments()
    {
        long released = 0;
        foreach (var free in new[] { _smallFree, _largeFree })
            foreach (var block in free.Blocks.Where(b => b.Offset == 0 && b.Size == b.Segment.Buffer.ByteLength).ToList())
            {
                free.Remove(block);
                _segments.Remove(block.Segment);
                _reserved -= block.Size;
                released += block.Size;
                block.Segment.Buffer.Dispose();
            }
        return released;
    }

    private static long RoundUp(long bytes, long multiple) => (bytes + multiple - 1) / multiple * multiple;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var segment in _segments) segment.Buffer.Dispose();
            _segments.Clear();
            _smallFree.Clear();
            _largeFree.Clear();
            _rented.Clear();
            _reserved = _allocated = _requested = 0;
        }
    }

    private sealed record Segment(DeviceBuffer Buffer, bool Small);

    /// <summary>A run of a segment's bytes, rented or free, linked to its neighbours in address order.</summary>
    private sealed class Block(Segment segment, long offset, long size)
    {
        public Segment Segment { get; } = segment;
        public long Offset { get; } = offset;
        public long Size { get; set; } = size;
        public bool Rented { get; set; }
        public long Requested { get; set; }
        public Block? Previous { get; set; }
        public Block? Next { get; set; }
        public ulong Pointer => Segment.Buffer.Pointer + (ulong)Offset;
    }

    /// <summary>
    /// One pool's free blocks, sorted by size, then address: the first at or above a size is the best fit, the lower
    /// address on ties. A sorted list (binary search, memmove on insert and remove) rather than a SortedSet, whose
    /// range view recounts its elements on every lookup.
    /// </summary>
    private sealed class FreeBlocks
    {
        private readonly List<Block> _blocks = [];

        public IReadOnlyList<Block> Blocks => _blocks;
        public int Count => _blocks.Count;
        public long LargestSize => _blocks.Count == 0 ? 0 : _blocks[^1].Size;

        public Block? BestFit(long size)
        {
            int i = LowerBound(size, 0);
            return i < _blocks.Count ? _blocks[i] : null;
        }

        public void Add(Block block) => _blocks.Insert(LowerBound(block.Size, block.Pointer), block);

        /// <summary>Removes <paramref name="block"/> if it is here (a new segment's block is not).</summary>
        public void Remove(Block block)
        {
            int i = LowerBound(block.Size, block.Pointer);
            if (i < _blocks.Count && ReferenceEquals(_blocks[i], block)) _blocks.RemoveAt(i);
        }

        public void Clear() => _blocks.Clear();

        // The index of the first block not below (size, pointer).
        private int LowerBound(long size, ulong pointer)
        {
            int lo = 0, hi = _blocks.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                var m = _blocks[mid];
                if (m.Size < size || (m.Size == size && m.Pointer < pointer)) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }
}
