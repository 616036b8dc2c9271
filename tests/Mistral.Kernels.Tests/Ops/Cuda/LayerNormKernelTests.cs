using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/layernorm.cu through LayerNormKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class LayerNormKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(LayerNormChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, LayerNormChecks.All(), check);
}
