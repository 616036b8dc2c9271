using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;

namespace Mistral.Kernels.Device;

/// <summary>An instantiated CUDA graph captured by <see cref="CudaDevice.Capture"/>; Launch replays it on the device's stream.</summary>
public sealed class CudaGraph : IDeviceGraph
{
    private readonly CudaDevice _device;
    private readonly CuGraphExecHandle _exec;

    internal CudaGraph(CudaDevice device, CuGraphExecHandle exec)
    {
        _device = device;
        _exec = exec;
    }

    public void Launch()
    {
        _device.Context.MakeCurrent();
        CudaException.Check(LibCuda.cuGraphLaunch(_exec.DangerousGetHandle(), _device.Stream));
    }

    public void Dispose() => _exec.Dispose();
}
