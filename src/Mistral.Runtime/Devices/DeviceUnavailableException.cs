namespace Mistral.Runtime.Devices;

/// <summary>A --device that does not exist or cannot run here (no GPU, missing driver or library).</summary>
public sealed class DeviceUnavailableException(string device, string reason) : Exception($"device '{device}': {reason}")
{
    public string Device { get; } = device;
}
