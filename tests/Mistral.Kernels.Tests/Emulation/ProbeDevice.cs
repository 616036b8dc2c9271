using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Testing.Devices;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>An emulated device whose sources also hold the probe kernels of emu_probe.cu; shared by a test class.</summary>
public sealed class ProbeDevice : IDisposable
{
    public ProbeDevice()
    {
        Sources = KernelSources.Embedded().WithFiles(ProbeFile());
        Device = TestDevices.Emulated(Sources);
    }

    public KernelSources Sources { get; }
    public EmulatedDevice Device { get; }

    public static KernelFile ProbeFile() =>
        new("testing/emu_probe.cu", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emulation", "emu_probe.cu")));

    public void Dispose() => Device.Dispose();
}
