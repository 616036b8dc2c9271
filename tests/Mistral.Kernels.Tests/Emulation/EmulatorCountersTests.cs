using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Device.Emulation;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The emulator's memory-access counters (the counters build, cuda_emu.h "memory-access counters") on the one-warp
/// kernels of emu_counters.cu. Every expected figure is worked out by hand from the access pattern: a sector is 32
/// bytes of global memory, a warp's 32 four-byte loads at stride 1 span 128 bytes = 4 sectors; shared memory has 32
/// banks of 4-byte words, word w in bank w mod 32, and 8- and 16-byte accesses are served in 2 and 4 phases of 16 and
/// 8 lanes (128 bytes each).
/// </summary>
public sealed class EmulatorCountersTests : IDisposable
{
    private static readonly KernelSources Sources = KernelSources.Embedded().WithFiles(
        new KernelFile("testing/emu_counters.cu", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emulation", "emu_counters.cu"))));

    private readonly EmulatedDevice _device = TestDevices.EmulatedWithCounters(Sources);

    [Theory]
    [InlineData(1, 4, 4)]    // 32 lanes × 4 bytes, contiguous: 128 bytes in 4 sectors, all used
    [InlineData(2, 8, 4)]    // every other float: 256 bytes span 8 sectors, half of each used
    [InlineData(32, 32, 4)]  // 128-byte stride: a sector per lane for 4 bytes each
    public void GlobalLoad_FloatStride_SectorsAsByHand(int stride, int sectors, int minimum)
    {
        var load = CopyLoad("counters_global_stride_f32", 32, 32 * 32 * 4, 32 * 4, stride);
        Assert.Equal((1L, sectors, minimum), (load.Requests, load.Sectors, load.MinSectors));
        Assert.Equal((double)minimum / sectors, load.SectorEfficiency);
        var store = Single(_device.Counters!.For("counters_global_stride_f32"), "global store");
        Assert.Equal((1L, 4L, 4L), (store.Requests, store.Sectors, store.MinSectors));
    }

    [Fact]
    public void GlobalLoad_SameFloatEveryLane_OneSector()
    {
        var load = CopyLoad("counters_global_broadcast_f32", 32, 4, 32 * 4);
        Assert.Equal((1L, 1L, 1L), (load.Requests, load.Sectors, load.MinSectors));
    }

    [Fact]
    public void GlobalLoad_Float4Stride1_SixteenSectors()
    {
        using var x = _device.Allocate(32 * 16);
        using var y = _device.Allocate(32 * 16);
        _device.Launch("counters_global_float4", 1, 32, 0, EmulatorArgs.Of(x.Pointer, y.Pointer));
        var counters = _device.Counters!.For("counters_global_float4");
        foreach (var kind in new[] { "global load", "global store" })
        {
            var site = Single(counters, kind);  // one 16-byte instruction, not four 4-byte ones
            Assert.Equal((1L, 16L, 16L), (site.Requests, site.Sectors, site.MinSectors));
        }
        Assert.Equal(16.0, counters.SectorsPerRequest);
        Assert.Equal(1.0, counters.SectorEfficiency);
    }

    [Fact]
    public void GlobalLoad_Bf16Stride1_TwoSectors()
    {
        var load = CopyLoad("counters_global_bf16", 32, 32 * 2, 32 * 2);
        Assert.Equal((1L, 2L, 2L), (load.Requests, load.Sectors, load.MinSectors));
    }

    [Fact]
    public void GlobalLoad_LoopWithShortLastTrip_PairsTripsAcrossLanes()
    {
        // n = 100 over 32 lanes: three full trips (4 sectors each), then lanes 0..3 read x[96..99] (16 bytes, 1 sector).
        var load = CopyLoad("counters_global_loop_f32", 32, 100 * 4, 100 * 4, 100);
        Assert.Equal((4L, 13L, 13L), (load.Requests, load.Sectors, load.MinSectors));
    }

    [Fact]
    public void GlobalLoad_PartialSecondWarp_CountsEachWarpApart()
    {
        // 40 threads: warp 0 reads 128 bytes (4 sectors), warp 1's 8 lanes read 32 bytes (1 sector).
        var load = CopyLoad("counters_global_stride_f32", 40, 40 * 4, 40 * 4, 1);
        Assert.Equal((2L, 5L, 5L), (load.Requests, load.Sectors, load.MinSectors));
    }

    [Theory]
    [InlineData(1, 1)]    // word t: bank t, one word per bank
    [InlineData(2, 2)]    // word 2t: banks 0, 2, .., 30 hold two words each
    [InlineData(32, 32)]  // word 32t: every lane in bank 0
    [InlineData(33, 1)]   // the padded column of a 32×33 tile: word 33t is in bank t
    public void SharedAccess_FloatStride_ConflictWaysAsByHand(int stride, int ways)
    {
        using var y = _device.Allocate(32 * 4);
        _device.Launch("counters_shared_stride_f32", 1, 32, 0, EmulatorArgs.Of(stride, y.Pointer));
        var counters = _device.Counters!.For("counters_shared_stride_f32");
        foreach (var kind in new[] { "shared store", "shared load" })
        {
            var site = Single(counters, kind);
            Assert.Equal((1L, 1L, (long)ways, ways), (site.Requests, site.Phases, site.Wavefronts, site.WorstWays));
        }
        Assert.Equal(ways, counters.SharedWorstWays);
        Assert.Equal(ways, counters.SharedAverageWays);
    }

    [Fact]
    public void SharedLoad_SameWordEveryLane_BroadcastIsConflictFree()
    {
        using var y = _device.Allocate(32 * 4);
        _device.Launch("counters_shared_broadcast_f32", 1, 32, 0, EmulatorArgs.Of(5, y.Pointer));
        var counters = _device.Counters!.For("counters_shared_broadcast_f32");
        var load = Single(counters, "shared load");
        Assert.Equal((1L, 1L, 1), (load.Requests, load.Wavefronts, load.WorstWays));
        var store = Single(counters, "shared store"); // lane 0 alone
        Assert.Equal((1L, 1L, 1), (store.Requests, store.Wavefronts, store.WorstWays));
    }

    [Theory]
    [InlineData(1, 4, 1)]  // each quarter-warp's 8 float4 are 32 consecutive words: 4 phases, no conflict
    [InlineData(2, 8, 2)]  // float4 2t: a quarter-warp spans 64 words, every bank twice, in each of the 4 phases
    public void SharedAccess_Float4Stride_QuarterWarpPhases(int stride, long wavefronts, int ways)
    {
        using var y = _device.Allocate(32 * 16);
        _device.Launch("counters_shared_stride_float4", 1, 32, 0, EmulatorArgs.Of(stride, y.Pointer));
        var counters = _device.Counters!.For("counters_shared_stride_float4");
        foreach (var kind in new[] { "shared store", "shared load" })
        {
            var site = Single(counters, kind);
            Assert.Equal((1L, 4L, wavefronts, ways), (site.Requests, site.Phases, site.Wavefronts, site.WorstWays));
        }
        var store = Single(counters, "global store");
        Assert.Equal((1L, 16L), (store.Requests, store.Sectors));
    }

    [Fact]
    public void SharedAccess_Float2Stride1_TwoHalfWarpPhasesConflictFree()
    {
        using var y = _device.Allocate(32 * 8);
        _device.Launch("counters_shared_float2", 1, 32, 0, EmulatorArgs.Of(y.Pointer));
        var counters = _device.Counters!.For("counters_shared_float2");
        foreach (var kind in new[] { "shared store", "shared load" })
        {
            var site = Single(counters, kind);
            Assert.Equal((1L, 2L, 2L, 1), (site.Requests, site.Phases, site.Wavefronts, site.WorstWays));
        }
    }

    [Fact]
    public void Counters_SiteLocation_NamesTheSourceLine()
    {
        using var y = _device.Allocate(32 * 4);
        _device.Launch("counters_shared_broadcast_f32", 1, 32, 0, EmulatorArgs.Of(5, y.Pointer));
        var load = Single(_device.Counters!.For("counters_shared_broadcast_f32"), "shared load");
        var line = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Emulation", "emu_counters.cu"))
            .Select((text, i) => (text, i)).Single(l => l.text.Contains("y[threadIdx.x] = cells[word];", StringComparison.Ordinal)).i + 1;
        Assert.Equal($"testing/emu_counters.cu:{line}", load.Location);
    }

    [Fact]
    public void NormalBuild_HasNoCounters()
    {
        using var device = TestDevices.Emulated();
        Assert.Null(device.Counters);
    }

    /// <summary>Runs kernel(x, scalars.., y) as one block of <paramref name="threads"/> and returns its one global load.</summary>
    private MemoryAccessSite CopyLoad(string kernel, int threads, int xBytes, int yBytes, params int[] scalars)
    {
        using var x = _device.Allocate(xBytes);
        using var y = _device.Allocate(yBytes);
        _device.Launch(kernel, 1, threads, 0, EmulatorArgs.Of([x.Pointer, .. scalars.Select(v => (object)v), y.Pointer]));
        return Single(_device.Counters!.For(kernel), "global load");
    }

    private static MemoryAccessSite Single(KernelMemoryCounters counters, string kind)
    {
        var sites = counters.Sites.Where(s => s.Kind == kind).ToList();
        Assert.True(sites.Count == 1, $"{counters.Kernel}: {sites.Count} {kind} sites ({string.Join("; ", counters.Sites.Select(s => $"{s.Kind} at {s.Location}"))})");
        return sites[0];
    }

    public void Dispose() => _device.Dispose();
}
