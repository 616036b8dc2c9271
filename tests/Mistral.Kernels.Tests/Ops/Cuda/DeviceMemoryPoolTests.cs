using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tests.Device;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>
/// The caching allocator on a device that only hands out addresses (<see cref="AddressOnlyDevice"/>: segment k starts
/// where segment k − 1 ends, from B = <see cref="AddressOnlyDevice.Base"/>), so every expected address below is worked
/// out by hand from the rules: ≤ 1 MiB from 2 MiB small segments, &lt; 10 MiB from 20 MiB segments, larger from the
/// request rounded up to 2 MiB; best fit by (size, address); a large-pool remainder of ≤ 1 MiB is not split off.
/// </summary>
public sealed class DeviceMemoryPoolTests
{
    private const long MiB = 1L << 20;
    private const ulong B = AddressOnlyDevice.Base;

    [Fact]
    public void RentAndReturn_Sequence_AddressesAndReservedBytesAsDerived()
    {
        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device);

        var a = pool.Rent(1000);           // small segment 1 [B, B+2 MiB); block 1024
        var b = pool.Rent(300);            // next to a; block 512
        var c = pool.Rent(3 * MiB);        // medium: segment 2 of 20 MiB at B+2 MiB
        var d = pool.Rent(12 * MiB);       // best fit is segment 2's 17 MiB tail, split: 5 MiB stay free at B+17 MiB
        var e = pool.Rent(16 * MiB + 1);   // nothing fits: segment 3 of 18 MiB at B+22 MiB; 16 MiB + 256 rented, 2 MiB − 256 split off
        var f = pool.Rent(9 * MiB / 2);    // the 5 MiB hole; its 0.5 MiB rest is too small to split off: 5 MiB rented
        Assert.Equal([B, B + 1024, B + 2 * MiB, B + 5 * MiB, B + 22 * MiB, B + 17 * MiB], new[] { a, b, c, d, e, f }.Select(s => s.Pointer));
        Assert.Equal(1000, a.Length);
        Assert.Equal([2 * MiB, 20 * MiB, 18 * MiB], device.Allocations);
        Assert.Equal(40 * MiB, pool.ReservedBytes);
        long allocated = 1024 + 512 + 3 * MiB + 12 * MiB + (16 * MiB + 256) + 5 * MiB;
        Assert.Equal(allocated, pool.AllocatedBytes);

        pool.Return(b);
        pool.Return(a);                    // a and b merge with the small segment's tail: one 2 MiB block again
        Assert.Equal(B, pool.Rent(256).Pointer);

        pool.Return(d);                    // a 12 MiB hole between c and f
        pool.Return(c);                    // merges with it: 15 MiB at B+2 MiB
        var h = pool.Rent(14 * MiB);       // best fit: the 15 MiB hole (not the 2 MiB − 256 tail); the 1 MiB rest stays with it
        Assert.Equal(B + 2 * MiB, h.Pointer);

        var stats = pool.Statistics;
        Assert.Equal(3, stats.Segments);
        Assert.Equal(3, device.Allocations.Count);     // every rent after the third segment was served from the cache
        Assert.Equal(40 * MiB, stats.ReservedBytes);
        Assert.Equal(256 + 15 * MiB + (16 * MiB + 256) + 5 * MiB, stats.AllocatedBytes);
        Assert.Equal(allocated, stats.PeakAllocatedBytes);
        Assert.Equal(256 + 14 * MiB + (16 * MiB + 1) + 9 * MiB / 2, stats.RequestedBytes);
        Assert.Equal(2 * MiB - 256, stats.LargestFreeBlock);   // the small segment's rest and segment 3's tail: both 2 MiB − 256
        Assert.Equal(2, stats.FreeBlocks);
    }

    [Fact]
    public void Return_ThreeNeighbours_CoalesceIntoOneBlock()
    {
        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device);
        var x = pool.Rent(256);
        var y = pool.Rent(200);
        var z = pool.Rent(256);
        Assert.Equal([B, B + 256, B + 512], new[] { x, y, z }.Select(s => s.Pointer));

        pool.Return(x);
        pool.Return(z);                    // z joins the segment's tail; x is a hole of its own
        var split = pool.Statistics;
        Assert.Equal(2, split.FreeBlocks);
        Assert.Equal(2 * MiB - 512, split.LargestFreeBlock);
        Assert.Equal(256.0 / (2 * MiB - 256), split.Fragmentation, 12);   // 1 − (2 MiB − 512) / (2 MiB − 256)

        pool.Return(y);                    // bridges the two: one free block, the whole segment
        var merged = pool.Statistics;
        Assert.Equal(1, merged.FreeBlocks);
        Assert.Equal(2 * MiB, merged.LargestFreeBlock);
        Assert.Equal(0.0, merged.Fragmentation);
        Assert.Equal(B, pool.Rent(SmallRequestBytes).Pointer);   // a 1 MiB rent fits at the start: nothing was left in pieces
        Assert.Single(device.Allocations);
    }

    private const long SmallRequestBytes = DeviceMemoryPool.SmallRequest;

    [Fact]
    public void Rent_TwoHolesThatFit_TakesTheSmallerOne()
    {
        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device);
        var first = pool.Rent(6 * MiB);    // one 20 MiB segment: [0, 6) [6, 8) [8, 12) [12, 14), tail [14, 20)
        pool.Rent(2 * MiB);
        var third = pool.Rent(4 * MiB);
        pool.Rent(2 * MiB);
        pool.Return(first);
        pool.Return(third);                // holes of 6 MiB at 0, 4 MiB at 8, 6 MiB at 14

        Assert.Equal(B + 8 * MiB, pool.Rent(3 * MiB).Pointer);   // best fit, though first fit would take the hole at 0
        Assert.Equal(B, pool.Rent(3 * MiB).Pointer);             // two 6 MiB holes: the lower address; split, 3 MiB left at 3
        Assert.Equal(B + 3 * MiB, pool.Rent(3 * MiB).Pointer);   // the 3 MiB rest beats the 6 MiB tail
        Assert.Single(device.Allocations);
    }

    [Fact]
    public void Rent_DeviceOutOfMemory_ReleasesCachedSegmentsAndRetries()
    {
        using var device = new AddressOnlyDevice(capacityBytes: 30 * MiB);
        using var pool = new DeviceMemoryPool(device);
        pool.Return(pool.Rent(12 * MiB));  // a 12 MiB segment, cached whole
        var big = pool.Rent(20 * MiB);     // 12 + 20 > 30: the cached segment goes back to the device, then it fits
        Assert.Equal([12 * MiB, 20 * MiB], device.Allocations);
        Assert.Equal(20 * MiB, pool.ReservedBytes);
        Assert.Equal(1, pool.SegmentCount);
        Assert.Equal(20 * MiB, device.LiveBytes);

        var e = Assert.Throws<DeviceOutOfMemoryException>(() => pool.Rent(11 * MiB));   // 20 + 12 > 30, nothing cached to release
        Assert.Equal(12 * MiB, e.RequestedBytes);
        Assert.Equal(20 * MiB, e.HeldBytes);
        pool.Return(big);
        Assert.Equal(20 * MiB, pool.ReleaseCachedSegments());
        Assert.Equal(0, device.LiveAllocations);
    }

    [Fact]
    public void Return_Twice_Throws()
    {
        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device);
        var block = pool.Rent(100);
        pool.Return(block);
        Assert.Throws<InvalidOperationException>(() => pool.Return(block));
    }

    [Fact]
    public void Reserve_ThenRentThatSize_NoNewSegment()
    {
        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device, reserveBytes: 100 * MiB);
        Assert.Equal(B, pool.Rent(60 * MiB).Pointer);
        Assert.Equal(B + 60 * MiB, pool.Rent(40 * MiB).Pointer);
        Assert.Equal([100 * MiB], device.Allocations);
    }

    /// <summary>
    /// Mistral 7B's 291 tensors in bf16, in checkpoint order (MistralTensorNames.Expected): embeddings 32000×4096, per
    /// layer wq 4096×4096, wk and wv 1024×4096, wo 4096×4096, w1 14336×4096, w2 4096×14336, w3 14336×4096 and two
    /// norms of 4096; the final norm and the output head 32000×4096. Sum: 14 483 464 192 bytes.
    /// Every matrix is a multiple of 2 MiB. Those of 10 MiB or more get a segment of exactly their size (wq, wo 32 MiB,
    /// w1, w2, w3 112 MiB, embeddings and output 250 MiB: 13 940 MiB in 162 segments); wk and wv (8 MiB, under
    /// 10 MiB) share one 20 MiB segment per layer, leaving a 4 MiB hole each (32 segments, 640 MiB); the 65 norms
    /// (8 KiB each) share one 2 MiB small segment. Reserved: 13 942 MiB = 14 619 246 592 bytes, 135 782 400 bytes
    /// (X = 0.94%) over the sum, all of it free blocks that later rents of ≤ 4 MiB (or ≤ 1 MiB) use. The pool this
    /// replaced (64 MiB slabs, the rest of a slab abandoned on every miss) reserved 16 160 653 312 bytes in 163 slabs
    /// for the same list: 1 677 189 120 bytes (1.56 GiB, 11.6%) over the sum, none of it usable again (worked out by
    /// replaying its rule over this list).
    /// </summary>
    [Fact]
    public void Rent_Mistral7bWeightsInBf16_ReservesWithinOnePercentOfTheirSum()
    {
        const long dim = 4096, hidden = 14336, vocab = 32000, kv = 1024, layers = 32, bf16 = 2;
        var sizes = new List<long> { vocab * dim * bf16 };
        for (int i = 0; i < layers; i++)
            sizes.AddRange([dim * dim * bf16, kv * dim * bf16, kv * dim * bf16, dim * dim * bf16,
                hidden * dim * bf16, dim * hidden * bf16, hidden * dim * bf16, dim * bf16, dim * bf16]);
        sizes.AddRange([dim * bf16, vocab * dim * bf16]);
        Assert.Equal(291, sizes.Count);
        Assert.Equal(14_483_464_192, sizes.Sum());

        using var device = new AddressOnlyDevice();
        using var pool = new DeviceMemoryPool(device);
        var blocks = sizes.Select(pool.Rent).ToList();

        Assert.Equal(14_619_246_592, pool.ReservedBytes);
        Assert.Equal(195, pool.SegmentCount);
        Assert.Equal(4L << 20, pool.Statistics.LargestFreeBlock);
        Assert.Equal(sizes.Sum(), pool.AllocatedBytes);   // every size is a multiple of 256: no rounding

        foreach (var block in blocks) pool.Return(block);
        Assert.Equal(0, pool.AllocatedBytes);
        Assert.Equal(14_619_246_592, pool.ReleaseCachedSegments());
        Assert.Equal(0, device.LiveAllocations);
    }
}
