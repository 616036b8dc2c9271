namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// What a <see cref="DeviceMemoryPool"/> holds at one moment.
/// </summary>
/// <param name="ReservedBytes">Held from the driver: every segment.</param>
/// <param name="AllocatedBytes">In rented blocks (requests rounded to the granule, plus remainders too small to split off).</param>
/// <param name="RequestedBytes">What the live rents asked for.</param>
/// <param name="PeakReservedBytes">The most ever reserved.</param>
/// <param name="PeakAllocatedBytes">The most ever allocated.</param>
/// <param name="Segments">Driver allocations held.</param>
/// <param name="RentedBlocks">Blocks rented out.</param>
/// <param name="FreeBlocks">Free blocks (after merging neighbours).</param>
/// <param name="LargestFreeBlock">The largest free block: the largest rent served without the driver.</param>
public readonly record struct DeviceMemoryPoolStatistics(
    long ReservedBytes, long AllocatedBytes, long RequestedBytes, long PeakReservedBytes, long PeakAllocatedBytes,
    int Segments, int RentedBlocks, int FreeBlocks, long LargestFreeBlock)
{
    /// <summary>Reserved but not rented: the cache.</summary>
    public long CachedBytes => ReservedBytes - AllocatedBytes;

    /// <summary>1 − largest free block ÷ cached bytes: 0 when the cache is one block (or empty), near 1 when it is crumbs.</summary>
    public double Fragmentation => CachedBytes == 0 ? 0 : 1 - (double)LargestFreeBlock / CachedBytes;

    /// <summary>One line for the bench and training memory reports, e.g. "pool reserved 14.49 GiB (peak 14.49), allocated 14.48 GiB (peak 14.48), 292 segments, fragmentation 0.0%".</summary>
    public override string ToString() =>
        $"pool reserved {Gib(ReservedBytes)} GiB (peak {Gib(PeakReservedBytes)}), allocated {Gib(AllocatedBytes)} GiB (peak {Gib(PeakAllocatedBytes)}), " +
        $"{Segments} segments, fragmentation {Fragmentation * 100:F1}%";

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
}
