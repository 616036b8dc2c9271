using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/cross_entropy.cu through CrossEntropyKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class CrossEntropyKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(CrossEntropyChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, CrossEntropyChecks.All(), check);
}
