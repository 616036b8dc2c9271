using Mistral.Kernels.Device;

namespace Mistral.Testing.Devices;

/// <summary>
/// One emulated device and, where a GPU is present, one CUDA device, shared by the tests of a class
/// (IClassFixture). <see cref="Get"/> skips the calling test when the requested device is not available.
/// </summary>
public sealed class DeviceFixture : IDisposable
{
    private readonly Lazy<IDevice> _emulated = new(() => TestDevices.Emulated());
    private readonly Lazy<(IDevice? Device, string Reason)> _cuda = new(() =>
    {
        var device = TestDevices.TryCuda(out var reason);
        return (device, reason);
    });

    /// <summary>The kinds every kernel test runs on: "emu" always, "cuda" when there is a GPU (else it skips).</summary>
    public static readonly string[] Kinds = ["emu", "cuda"];

    public IDevice Get(string kind)
    {
        if (kind == "emu") return _emulated.Value;
        var (device, reason) = _cuda.Value;
        if (device is null) Xunit.Assert.Skip(reason);
        return device!;
    }

    public void Dispose()
    {
        if (_emulated.IsValueCreated) _emulated.Value.Dispose();
        if (_cuda.IsValueCreated) _cuda.Value.Device?.Dispose();
    }
}
