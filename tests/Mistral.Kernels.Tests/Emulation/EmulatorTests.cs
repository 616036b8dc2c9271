using Mistral.Kernels.Device;
using Mistral.Kernels.Device.Emulation;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The emulator's CUDA semantics, each pinned by a probe kernel (emu_probe.cu) and expected values computed here by
/// hand from the CUDA programming guide's definitions.
/// </summary>
public sealed class EmulatorTests(ProbeDevice probe) : IClassFixture<ProbeDevice>
{
    private readonly EmulatedDevice _device = probe.Device;

    [Theory]
    [InlineData("probe_reverse_static", 0)]
    [InlineData("probe_reverse_dynamic", 1)]
    public void SharedMemory_ReverseThroughBarrier_EachBlockReversed(string kernel, int dynamic)
    {
        const int threads = 96, blocks = 3;
        var input = Enumerable.Range(0, threads * blocks).Select(i => (float)i).ToArray();
        using var x = Upload(input);
        using var y = _device.Allocate(input.Length * 4L);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(y.Pointer);
        _device.Launch(kernel, blocks, threads, dynamic * threads * 4, args);
        var output = Download<float>(y);
        for (int b = 0; b < blocks; b++)
            for (int t = 0; t < threads; t++)
                Assert.Equal(input[b * threads + threads - 1 - t], output[b * threads + t]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(5, 3)]
    [InlineData(31, 16)]
    public void Shuffles_FourFlavours_MatchTheirDefinitions(int srcLane, int delta)
    {
        const int threads = 64;
        var input = Enumerable.Range(0, threads).Select(i => 100f + i).ToArray();
        using var x = Upload(input);
        using var y = _device.Allocate(4L * threads * 4);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(y.Pointer);
        args.Add(srcLane);
        args.Add(delta);
        _device.Launch("probe_shuffles", 1, threads, 0, args);
        var output = Download<float>(y);
        for (int t = 0; t < threads; t++)
        {
            int lane = t % 32, warpBase = t - lane;
            Assert.Equal(input[warpBase + srcLane], output[4 * t + 0]);
            Assert.Equal(input[warpBase + (lane ^ delta)], output[4 * t + 1]);
            Assert.Equal(input[lane + delta < 32 ? t + delta : t], output[4 * t + 2]);
            Assert.Equal(input[lane - delta >= 0 ? t - delta : t], output[4 * t + 3]);
        }
    }

    [Fact]
    public void Votes_BallotAllAny_PerWarp()
    {
        // warp 0: lanes 3 and 17 positive; warp 1: all positive; warp 2: none positive.
        var input = new float[96];
        input[3] = 1; input[17] = 2;
        for (int i = 32; i < 64; i++) input[i] = 1;
        using var x = Upload(input);
        using var votes = _device.Allocate(9 * 4);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(votes.Pointer);
        _device.Launch("probe_votes", 1, 96, 0, args);
        Assert.Equal(new uint[] { (1u << 3) | (1u << 17), 0, 1, 0xFFFF_FFFF, 1, 1, 0, 0, 0 }, Download<uint>(votes));
    }

    [Theory]
    [InlineData(1, 32)]
    [InlineData(127, 64)]
    [InlineData(4097, 1024)]
    public void BlockReduce_SumAndMax_EveryThreadAgrees(int n, int threads)
    {
        var input = Enumerable.Range(0, n).Select(i => (float)((i * 37) % 101 - 50)).ToArray();
        int blocks = (n + threads - 1) / threads;
        using var x = Upload(input);
        using var sums = _device.Allocate(blocks * 4L);
        using var maxes = _device.Allocate(blocks * 4L);
        using var disagreements = Upload(new[] { 0 });
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(n);
        args.Add(sums.Pointer);
        args.Add(maxes.Pointer);
        args.Add(disagreements.Pointer);
        _device.Launch("probe_block_reduce", blocks, threads, 0, args);
        var gotSums = Download<float>(sums);
        var gotMaxes = Download<float>(maxes);
        for (int b = 0; b < blocks; b++)
        {
            var slice = input.Skip(b * threads).Take(threads).ToArray();
            Assert.Equal(slice.Sum(), gotSums[b]); // small integers: exact in any order
            Assert.Equal(slice.Max(), gotMaxes[b]);
        }
        Assert.Equal(0, Download<int>(disagreements)[0]);
    }

    [Fact]
    public void Atomics_AcrossBlocks_CountSumAndMax()
    {
        const int n = 1000;
        var input = Enumerable.Range(0, n).Select(i => (float)(i % 7) - 3f).ToArray();
        input[613] = 42.5f;
        using var x = Upload(input);
        using var counter = Upload(new[] { 0 });
        using var total = Upload(new[] { 0f });
        using var best = Upload(new[] { float.NegativeInfinity });
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(n);
        args.Add(counter.Pointer);
        args.Add(total.Pointer);
        args.Add(best.Pointer);
        _device.Launch("probe_atomics", (n + 127) / 128, 128, 0, args);
        Assert.Equal(n, Download<int>(counter)[0]);
        Assert.Equal(input.Sum(), Download<float>(total)[0]);
        Assert.Equal(42.5f, Download<float>(best)[0]);
    }

    [Fact]
    public void EarlyExit_BeforeBarrier_RemainingThreadsStillSync()
    {
        using var y = _device.Allocate(64 * 4);
        var args = new KernelArgs();
        args.Add(y.Pointer);
        args.Add(40);
        _device.Launch("probe_early_exit", 1, 64, 0, args);
        var output = Download<float>(y);
        for (int t = 0; t < 40; t++) Assert.Equal(39 - t, output[t]);
        Assert.True(float.IsNaN(output[40]), "threads that returned wrote nothing; the buffer's NaN poison remains");
    }

    [Fact]
    public void Coordinates_3DLaunch_EveryThreadOnce()
    {
        var grid = new Dim3(3, 2, 2);
        var block = new Dim3(5, 3, 2);
        int total = (int)(grid.Count * block.Count);
        using var coords = _device.Allocate(2L * total * 4);
        var args = new KernelArgs();
        args.Add(coords.Pointer);
        _device.Launch("probe_coordinates", grid, block, 0, args);
        var output = Download<int>(coords);
        for (int i = 0; i < total; i++)
        {
            Assert.Equal(i % (int)block.Count, output[2 * i]);
            Assert.Equal(i / (int)block.Count, output[2 * i + 1]);
        }
    }

    [Fact]
    public void OutOfBoundsWrite_OnePastTheEnd_FailsNamingTheKernel()
    {
        using var y = _device.Allocate(100 * 4);
        var e = LaunchFails("probe_write_past_end", 1, 128, y.Pointer, 100);
        Assert.Contains("probe_write_past_end", e.Message);
        Assert.Contains("past the end of a 400-byte buffer", e.Message);
    }

    [Fact]
    public void Deadlock_BarrierInDivergentCode_FailsNamingTheKernel()
    {
        using var y = _device.Allocate(32 * 4);
        var e = LaunchFails("probe_deadlock", 1, 32, y.Pointer);
        Assert.Contains("probe_deadlock", e.Message);
        Assert.Contains("deadlock", e.Message);
    }

    [Fact]
    public void Launch_WrongArgumentCount_FailsNamingTheKernel()
    {
        using var y = _device.Allocate(32 * 4);
        var e = LaunchFails("probe_write_past_end", 1, 32, y.Pointer);
        Assert.Contains("probe_write_past_end takes 2 arguments; the launcher passed 1", e.Message);
    }

    [Fact]
    public void Launch_ArgumentOfWrongSize_FailsNamingTheKernel()
    {
        using var y = _device.Allocate(32 * 4);
        var e = LaunchFails("probe_write_past_end", 1, 32, y.Pointer, 100L); // the kernel takes an int
        Assert.Contains("argument 1 is 4 bytes in the kernel, 8 bytes from the launcher", e.Message);
    }

    [Fact]
    public void Launch_BlockOver1024Threads_Fails()
    {
        using var y = _device.Allocate(2048 * 4);
        var e = LaunchFails("probe_write_past_end", 1, 2048, y.Pointer, 0);
        Assert.Contains("2048 threads", e.Message);
    }

    [Fact]
    public void Allocate_NewBuffer_IsPoisonedWithNaN()
    {
        using var y = _device.Allocate(16 * 4);
        Assert.All(Download<float>(y), v => Assert.True(float.IsNaN(v)));
    }

    private EmulatedKernelException LaunchFails(string kernel, Dim3 grid, Dim3 block, params object[] arguments)
    {
        var args = new KernelArgs();
        foreach (var a in arguments)
        {
            switch (a)
            {
                case ulong u: args.Add(u); break;
                case int i: args.Add(i); break;
                case long l: args.Add(l); break;
                default: throw new ArgumentException($"unsupported argument {a}");
            }
        }
        try
        {
            _device.Launch(kernel, grid, block, 0, args);
        }
        catch (EmulatedKernelException e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException($"{kernel} launched without the expected failure");
    }

    private DeviceBuffer Upload<T>(T[] values) where T : unmanaged
    {
        var buffer = _device.Allocate(values.Length * (long)System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        _device.CopyToDevice<T>(values, buffer.AsSpan<T>());
        return buffer;
    }

    private T[] Download<T>(DeviceBuffer buffer) where T : unmanaged
    {
        var span = buffer.AsSpan<T>();
        var values = new T[span.Length];
        _device.CopyToHost(span, values);
        return values;
    }
}
