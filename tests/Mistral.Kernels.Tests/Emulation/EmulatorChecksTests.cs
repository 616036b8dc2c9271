using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Device.Emulation;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The emulator's hardening (kernels/emu/cuda_emu.h): each check fires on a deliberately wrong kernel of emu_bad.cu,
/// and the seeded order really varies the order of blocks and of threads between barriers.
/// </summary>
public sealed class EmulatorChecksTests
{
    private static readonly KernelSources Sources = KernelSources.Embedded().WithFiles(
        new KernelFile("testing/emu_bad.cu", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emulation", "emu_bad.cu"))));

    [Theory]
    [InlineData("bad_shared_race")]
    [InlineData("bad_shared_race_templated")]
    public void SharedRace_TwoThreadsWriteOneCell_FailsNamingBoth(string kernel)
    {
        using var device = Device(checkRaces: true);
        using var y = device.Allocate(64 * 4);
        var e = Assert.Throws<EmulatedKernelException>(() => device.Launch(kernel, 1, 64, 0, EmulatorArgs.Of(y.Pointer)));
        Assert.Contains($"{kernel}: shared-memory race", e.Message);
        Assert.Contains("both wrote static shared byte", e.Message);
    }

    [Fact]
    public void SharedRace_WithoutCheck_LastWriterDependsOnSeed()
    {
        // The race the check above refuses: unchecked, the value every thread reads is whichever thread wrote last.
        var winners = new HashSet<float>();
        foreach (ulong seed in new ulong[] { 0, 1, 2, 3, 4, 5 })
        {
            using var device = Device(seed: seed);
            using var y = device.Allocate(64 * 4);
            device.Launch("bad_shared_race", 1, 64, 0, EmulatorArgs.Of(y.Pointer));
            var output = Download(device, y, 64);
            Assert.All(output, v => Assert.Equal(output[0], v));
            if (seed == 0) Assert.Equal(63f, output[0]); // in order: thread 63 writes last
            winners.Add(output[0]);
        }
        Assert.True(winners.Count >= 3, $"6 seeds gave only the last writers {string.Join(", ", winners)}");
    }

    [Fact]
    public void SharedRace_BarrierBetweenWrites_Passes()
    {
        // probe_reverse_static-like code (write own cell, barrier, read another) is race-free: the check stays quiet.
        using var device = Device(checkRaces: true);
        using var y = device.Allocate(32 * 4 * 3);
        device.Launch("probe_static_poison", 3, 32, 0, EmulatorArgs.Of(y.Pointer));
    }

    [Fact]
    public void WarpCollective_MaskNamesExitedLanes_Fails()
    {
        using var device = Device();
        using var y = device.Allocate(32 * 4);
        var e = Assert.Throws<EmulatedKernelException>(() => device.Launch("bad_mask_names_exited_lanes", 1, 32, 0, EmulatorArgs.Of(y.Pointer)));
        // Lanes 16..31 either returned before a lane arrived at the shuffle, or return while the others wait in it.
        Assert.Matches(@"bad_mask_names_exited_lanes: (warp collective with mask 0xffffffff names lane (1[6-9]|2\d|3[01]) of warp 0, which has already returned|lane (1[6-9]|2\d|3[01]) of warp 0 returned while its warp waits in a collective whose mask 0xffffffff names it)", e.Message);
    }

    [Fact]
    public void WarpCollective_PartialLastWarpWithFullMask_Fails()
    {
        using var device = Device();
        using var y = device.Allocate(8 * 4);
        var e = Assert.Throws<EmulatedKernelException>(() => device.Launch("bad_mask_names_exited_lanes", 1, 8, 0, EmulatorArgs.Of(y.Pointer)));
        Assert.Contains("mask 0xffffffff names lane 8 of warp 0, which the block does not have", e.Message);
    }

    [Theory]
    [InlineData("bad_misaligned_load")]
    [InlineData("bad_misaligned_store")]
    public void VectorAccess_Misaligned_Fails(string kernel)
    {
        using var device = Device();
        using var x = device.Allocate(64 * 4);
        using var y = device.Allocate(64 * 4);
        device.Memset(new DeviceSpan<uint>(x.Pointer, 64), 0);
        object[] arguments = kernel == "bad_misaligned_load" ? [x.Pointer, 1, y.Pointer] : [y.Pointer, 1];
        var e = Assert.Throws<EmulatedKernelException>(() => device.Launch(kernel, 1, 1, 0, EmulatorArgs.Of(arguments)));
        Assert.Contains($"{kernel}: misaligned 16-byte vector access", e.Message);
    }

    [Fact]
    public void VectorAccess_Aligned_Passes()
    {
        using var device = Device();
        using var x = device.Allocate(64 * 4);
        using var y = device.Allocate(64 * 4);
        device.Memset(new DeviceSpan<uint>(x.Pointer, 64), 0);
        device.Launch("bad_misaligned_load", 1, 1, 0, EmulatorArgs.Of(x.Pointer, 4, y.Pointer));
    }

    [Fact]
    public void SyncThreads_DifferentSourceLines_Fails()
    {
        using var device = Device();
        using var y = device.Allocate(64 * 4);
        var e = Assert.Throws<EmulatedKernelException>(() => device.Launch("bad_divergent_barriers", 1, 64, 0, EmulatorArgs.Of(y.Pointer)));
        Assert.Contains("bad_divergent_barriers: threads of one block wait at different __syncthreads", e.Message);
    }

    [Fact]
    public void BlockOrder_Seeded_IsAPermutationOtherThanIndexOrder()
    {
        const int blocks = 64;
        int[] Order(ulong seed)
        {
            using var device = Device(seed: seed);
            using var counter = device.Allocate(4);
            using var order = device.Allocate(blocks * 4);
            device.Memset(new DeviceSpan<uint>(counter.Pointer, 1), 0);
            device.Launch("probe_block_order", blocks, 1, 0, EmulatorArgs.Of(counter.Pointer, order.Pointer));
            var result = new int[blocks];
            device.CopyToHost(new DeviceSpan<int>(order.Pointer, blocks), result);
            return result;
        }
        Assert.Equal(Enumerable.Range(0, blocks), Order(0));
        var seeded = Order(EmulatedDeviceOptions.DefaultSeed);
        Assert.Equal(Enumerable.Range(0, blocks), seeded.Order());
        Assert.NotEqual(Enumerable.Range(0, blocks), seeded);
        Assert.Equal(seeded, Order(EmulatedDeviceOptions.DefaultSeed)); // reproducible
    }

    [Theory]
    [InlineData("probe_static_poison")]
    [InlineData("probe_static_poison_templated")]
    [InlineData("probe_static_poison_inline")]
    public void StaticShared_UnwrittenInThisBlock_ReadsNaNPoison(string kernel)
    {
        using var device = Device();
        using var y = device.Allocate(3 * 32 * 4);
        device.Launch(kernel, 3, 32, 0, EmulatorArgs.Of(y.Pointer));
        var output = Download(device, y, 3 * 32);
        Assert.All(output.Take(32), v => Assert.Equal(1f, v));
        Assert.All(output.Skip(32), v => Assert.True(float.IsNaN(v)));
    }

    private static EmulatedDevice Device(ulong seed = EmulatedDeviceOptions.DefaultSeed, bool checkRaces = false) =>
        new(Sources, new EmulatedDeviceOptions(TestDevices.CacheDirectory, ScheduleSeed: seed, CheckSharedRaces: checkRaces));

    private static float[] Download(IDevice device, DeviceBuffer buffer, int count)
    {
        var values = new float[count];
        device.CopyToHost(new DeviceSpan<float>(buffer.Pointer, count), values);
        return values;
    }
}
