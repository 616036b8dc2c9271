using Mistral.Kernels.Checks;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>Turns a family's <see cref="KernelCheck"/>s into theory rows (device × case) and runs one with evidence on failure.</summary>
internal static class KernelCheckRunner
{
    public static TheoryData<string, string> Rows(IEnumerable<KernelCheck> checks)
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in DeviceFixture.Kinds)
            foreach (var check in checks)
                data.Add(kind, check.Name);
        return data;
    }

    public static void Run(DeviceFixture devices, string kind, IEnumerable<KernelCheck> checks, string name)
    {
        var device = devices.Get(kind);
        var check = checks.Single(c => c.Name == name);
        KernelComparison result;
        using (var scope = new DeviceScope(device)) result = check.Run(scope);
        var failure = result.Failure();
        if (failure is not null) Assert.Fail($"{check.Name} on {kind}: {failure}");
    }
}
