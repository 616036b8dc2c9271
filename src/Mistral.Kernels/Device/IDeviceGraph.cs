namespace Mistral.Kernels.Device;

/// <summary>A captured graph: <see cref="Launch"/> replays it on the device's stream.</summary>
public interface IDeviceGraph : IDisposable
{
    void Launch();
}
