namespace Mistral.Kernels.Device;

/// <summary>A device that can record the work issued on its stream into a graph and replay it with one launch.</summary>
public interface IGraphCapture
{
    /// <summary>Records everything <paramref name="body"/> issues (nothing runs while capturing). Throws when the driver cannot capture it.</summary>
    IDeviceGraph Capture(Action body);
}
