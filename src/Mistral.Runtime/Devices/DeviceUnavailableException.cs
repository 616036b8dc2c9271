namespace Mistral.Runtime.Devices;

/// <summary>A --device that does not exist or cannot run here (no GPU, missing driver or library).</summary>
public sealed class DeviceUnavailableException(string device, string reason) : Exception($"device '{device}': {reason}")
{
    public string Device { get; } = device;

    /// <summary>The reason in a few words ("libcuda not found"), for a one-line note; the message has every detail.</summary>
    public string Brief { get; init; } = reason;
}
