namespace Mistral.Kernels.Device;

/// <summary>
/// Where uploads are staged: a ring of <see cref="Capacity"/> bytes of pinned host memory from which copies to the
/// device are issued on the stream without waiting for them. A chunk goes at the ring's head; when it does not fit
/// before the end, the ring starts over, and copies issued from it since the device was last drained must finish
/// first (they may still be reading the bytes about to be overwritten): one wait per ring's worth of uploads, none
/// for the few bytes a decode step writes. Bookkeeping only, shared by both devices so the emulator counts the waits
/// a GPU makes. Not thread-safe: the device calls it under its lock.
/// </summary>
internal sealed class StagingRing(long capacity)
{
    /// <summary>The ring's size on both devices: large enough that the inputs of thousands of decode steps fit between waits.</summary>
    public const long DefaultCapacity = 8L << 20;

    /// <summary>Chunks start on this boundary, so a staged copy is as aligned as the device memory it goes to.</summary>
    private const long Alignment = 256;

    private long _head;
    private bool _inFlight;   // a copy from the ring may still be running

    public long Capacity { get; } = capacity;

    /// <summary>Where the next chunk of <paramref name="bytes"/> (≤ <see cref="Capacity"/>) goes, and whether the device must first wait for earlier copies from the ring.</summary>
    public (long Offset, bool WaitFirst) Place(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Capacity);
        bool wait = false;
        if (_head + bytes > Capacity)
        {
            wait = _inFlight;
            _head = 0;
        }
        long offset = _head;
        _head = Math.Min(Capacity, (offset + bytes + Alignment - 1) / Alignment * Alignment);
        _inFlight = true;
        return (offset, wait);
    }

    /// <summary>
    /// The device finished all issued work (a synchronisation or a download): no copy from the ring is running, so the
    /// whole ring is free and the next chunk starts at its beginning (a decode step, which downloads its ids, never wraps).
    /// </summary>
    public void Drained()
    {
        _inFlight = false;
        _head = 0;
    }
}
