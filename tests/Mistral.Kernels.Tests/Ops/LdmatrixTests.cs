using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// kernels/cu/common/ldmatrix.cuh: the fragments ldmatrix_x4 / ldmatrix_x4_trans hand each lane, against the layout
/// the PTX ISA states ("Warp-level matrix load instruction: ldmatrix"), computed here by hand: lane 8·i + r supplies
/// row r of matrix i; lane 4·g + t receives M_i[g][2t], M_i[g][2t+1] (plain) or M_i[2t][g], M_i[2t+1][g] (.trans),
/// the first element in the low 16 bits. Every element is a distinct 16-bit pattern, so a misplaced one shows.
/// </summary>
public sealed class LdmatrixTests
{
    [Theory]
    [InlineData("emu", false)]
    [InlineData("emu", true)]
    [InlineData("cuda", false)]
    [InlineData("cuda", true)]
    public void Ldmatrix_PermutedRowAddresses_GivesTheIsaFragments(string deviceKind, bool trans)
    {
        var file = new KernelFile("testing/ldmatrix_probe.cu", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emulation", "ldmatrix_probe.cu")));
        var sources = KernelSources.Embedded().WithFiles(file);
        using IDevice device = deviceKind == "emu" ? TestDevices.Emulated(sources) : OpenCuda(sources);

        // element (row, col) of the [32 x 8] source: a distinct bit pattern per element
        static ushort Element(int row, int col) => (ushort)(0x1000 + row * 8 + col);
        var source = new ushort[32 * 8];
        for (int row = 0; row < 32; row++)
            for (int col = 0; col < 8; col++) source[row * 8 + col] = Element(row, col);

        var expected = new uint[32 * 4];
        for (int lane = 0; lane < 32; lane++)
        {
            int g = lane / 4, t = lane % 4;
            for (int i = 0; i < 4; i++)
            {
                int Row(int r) => (5 * (8 * i + r) + 3) % 32;   // the source row that lane 8·i + r named
                (ushort low, ushort high) = trans
                    ? (Element(Row(2 * t), g), Element(Row(2 * t + 1), g))
                    : (Element(Row(g), 2 * t), Element(Row(g), 2 * t + 1));
                expected[lane * 4 + i] = low | (uint)high << 16;
            }
        }

        using var dm = device.Allocate(source.Length * sizeof(ushort));
        device.CopyToDevice<ushort>(source, dm.AsSpan<ushort>());
        using var dout = device.Allocate(expected.Length * sizeof(uint));
        var args = new KernelArgs();
        args.Add(dm.Pointer);
        args.Add(trans ? 1 : 0);
        args.Add(dout.Pointer);
        device.Launch("probe_ldmatrix", 1, 32, 0, args);
        var actual = new uint[expected.Length];
        device.CopyToHost(dout.AsSpan<uint>(), actual);
        Assert.Equal(expected, actual);
    }

    private static CudaDevice OpenCuda(KernelSources sources)
    {
        using var probe = TestDevices.TryCuda(out var reason);   // skips with the reason where there is no GPU
        if (probe is null) Assert.Skip(reason);
        return CudaDevice.Open(0, new CudaDeviceOptions(sources, TestDevices.CacheDirectory));
    }
}
