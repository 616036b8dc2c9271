using Mistral.Kernels.Checks;
using Mistral.Kernels.Device;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The emulator's FMA build (-mfma -ffp-contract=fast: a·b + c fused wherever g++ likes, as NVRTC does by default) over
/// a subset of the kernel checks: every result stays within its tolerance, and the checks that demand bit-exact
/// results (AdamW: the kernel forms each product and sum with the non-contracting _rn intrinsics; copies, casts) stay
/// bit-exact, so "bit-identical to the reference" does not rest on the emulator's one-rounding-per-operation build.
/// </summary>
public sealed class EmulatorFmaTests : IDisposable
{
    private static readonly string[] Families = ["adamw_", "rope_", "rmsnorm_", "swiglu_", "elementwise_", "cross_entropy_", "kv_cache_append"];

    private readonly Lazy<EmulatedDevice> _device = new(TestDevices.EmulatedWithFma);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var check in Subset()) data.Add(check.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check_FmaBuild_WithinTolerance(string name)
    {
        if (!System.Runtime.Intrinsics.X86.Fma.IsSupported) Assert.Skip("the host CPU has no FMA instructions");
        var check = Subset().Single(c => c.Name == name);
        KernelComparison result;
        using (var scope = new DeviceScope(_device.Value)) result = check.Run(scope);
        var failure = result.Failure();
        if (failure is not null) Assert.Fail($"{check.Name} on the FMA build: {failure}");
    }

    private static IEnumerable<KernelCheck> Subset() => KernelChecks.All().Where(c => Families.Any(f => c.Kernel.StartsWith(f, StringComparison.Ordinal)));

    public void Dispose()
    {
        if (_device.IsValueCreated) _device.Value.Dispose();
    }
}
