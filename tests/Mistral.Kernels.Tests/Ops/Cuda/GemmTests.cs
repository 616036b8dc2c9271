using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>IDevice.Gemm on the emulated device (and cuBLAS on a real GPU when present) vs GemmRef.</summary>
public sealed class GemmTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(GemmChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_CaseTable_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, GemmChecks.All(), check);
}
