using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>kernels/cu/common/mma.cuh: one m16n8k16 product through the documented fragment layout, against fp64 on the host.</summary>
public sealed class MmaTests
{
    // bf16 × bf16 products are exact in fp32; 16 of them summed in fp32 in some order: a few ulps of values ≤ ~16.
    private const double Abs = 1e-5, Rel = 1e-6;

    [Theory]
    [InlineData("emu")]
    [InlineData("cuda")]
    public void Mma_DocumentedLayout_ComputesCPlusAB(string deviceKind)
    {
        var file = new KernelFile("testing/mma_probe.cu", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emulation", "mma_probe.cu")));
        var sources = KernelSources.Embedded().WithFiles(file);
        using IDevice device = deviceKind == "emu" ? TestDevices.Emulated(sources) : OpenCuda(sources);

        var rng = new CaseRandom(16);
        var a = rng.Normal(16 * 16);
        var b = rng.Normal(16 * 8);
        FloatBits.RoundToBFloat16(a);
        FloatBits.RoundToBFloat16(b);
        var expected = new float[16 * 8];
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 8; j++)
            {
                double sum = 1;
                for (int k = 0; k < 16; k++) sum += (double)a[i * 16 + k] * b[k * 8 + j];
                expected[i * 8 + j] = (float)sum;
            }

        using var da = Upload(device, a);
        using var db = Upload(device, b);
        using var dc = device.Allocate(16 * 8 * sizeof(float));
        var args = new KernelArgs();
        args.Add(da.Pointer);
        args.Add(db.Pointer);
        args.Add(dc.Pointer);
        device.Launch("probe_mma_bf16", 1, 32, 0, args);
        var actual = new float[16 * 8];
        device.CopyToHost(dc.AsSpan<float>(), actual);
        TensorAssert.Close(expected, actual, Abs, Rel, "C + A·B");
    }

    private static CudaDevice OpenCuda(KernelSources sources)
    {
        using var probe = TestDevices.TryCuda(out var reason);   // skips with the reason where there is no GPU
        if (probe is null) Assert.Skip(reason);
        return CudaDevice.Open(0, new CudaDeviceOptions(sources, TestDevices.CacheDirectory));
    }

    private static DeviceBuffer Upload(IDevice device, float[] values)
    {
        var bits = values.Select(FloatBits.SingleToBFloat16).ToArray();
        var buffer = device.Allocate(bits.Length * sizeof(ushort));
        device.CopyToDevice<ushort>(bits, buffer.AsSpan<ushort>());
        return buffer;
    }
}
