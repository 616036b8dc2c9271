using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/gemv.cu through GemvKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class GemvKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(GemvChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, GemvChecks.All(), check);
}
