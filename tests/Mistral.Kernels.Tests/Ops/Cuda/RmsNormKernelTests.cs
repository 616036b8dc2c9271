using Mistral.Kernels.Checks;
using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/rmsnorm.cu through RmsNormKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class RmsNormKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(RmsNormChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, RmsNormChecks.All(), check);

    /// <summary>
    /// The weight gradient over 5000 rows (157 row slices) gives the same bits on every run and under every block and
    /// thread order: the emulator's schedule seed 0 (index order) twice, then two shuffled orders.
    /// </summary>
    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    public void Backward_ManyRows_SameBitsOnEveryRunAndSchedule(string dtypeName)
    {
        var dtype = Enum.Parse<DType>(dtypeName);
        var c = new RmsNormCase("rows5000_dim1028", 5000, 1028);
        var data = c.Build();
        var rstd = new float[c.Rows];
        RmsNormRef.Forward(data.X, data.Weight, c.Eps, new float[c.Rows * c.Dim], rstd);

        float[] DWeight(ulong seed)
        {
            using var device = new EmulatedDevice(KernelSources.Embedded(), new EmulatedDeviceOptions(TestDevices.CacheDirectory, ScheduleSeed: seed));
            using var s = new DeviceScope(device);
            var shape = new Shape(c.Rows, c.Dim);
            var dWeight = s.Upload(new float[c.Dim], new Shape(c.Dim), DType.F32);
            RmsNormKernel.Backward(device, s.Upload(data.X, shape, dtype), s.Upload(data.Weight, new Shape(c.Dim), dtype), s.Upload(rstd, new Shape(c.Rows), DType.F32),
                s.Upload(data.DY, shape, dtype), s.Allocate(shape, dtype), dWeight, s.Scratch(RmsNormKernel.PartialsBytes(c.Rows, c.Dim)));
            return s.Download(dWeight);
        }

        var first = DWeight(0);
        Assert.All(first, v => Assert.True(float.IsFinite(v) && v != 0));
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), DWeight(0).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), DWeight(EmulatedDeviceOptions.DefaultSeed).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), DWeight(0x5eed).Select(BitConverter.SingleToInt32Bits));
    }
}
