using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;

namespace Mistral.Runtime.Devices;

/// <summary>
/// Turns a --device name into the <see cref="IOps"/> that runs it. Each device is one entry of <see cref="Devices"/>;
/// a device whose hardware or libraries are missing throws <see cref="DeviceUnavailableException"/> from its factory.
/// </summary>
public static class OpsFactory
{
    /// <summary>Known devices in the order --help lists them, with what each one is.</summary>
    public static IReadOnlyList<(string Name, string Description, Func<IOps> Create)> Devices { get; } =
    [
        ("cpu", "fp32 reference ops in C# (the oracle)", () => new CpuOps()),
    ];

    public static IReadOnlyList<string> Names => Devices.Select(d => d.Name).ToArray();

    /// <summary>The ops for <paramref name="name"/> (case-insensitive); unknown names and unavailable devices throw DeviceUnavailableException.</summary>
    public static IOps Create(string name)
    {
        foreach (var device in Devices)
            if (string.Equals(device.Name, name, StringComparison.OrdinalIgnoreCase))
                return device.Create();
        throw new DeviceUnavailableException(name, $"unknown device (available: {string.Join(", ", Names)})");
    }
}
