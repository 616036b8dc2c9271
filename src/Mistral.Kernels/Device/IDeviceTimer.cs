namespace Mistral.Kernels.Device;

/// <summary>A device that times its own work (CUDA events): what the device spent, launch gaps included.</summary>
public interface IDeviceTimer
{
    /// <summary>Milliseconds the device spent on the work <paramref name="body"/> issues.</summary>
    float Time(Action body);
}
