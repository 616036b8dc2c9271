using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/rope.cu through RopeKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class RopeKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(RopeChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, RopeChecks.All(), check);
}
