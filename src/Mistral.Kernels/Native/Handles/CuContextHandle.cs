using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native.Handles;

/// <summary>A retained primary context of one device; releasing it releases the retain (cuDevicePrimaryCtxRelease).</summary>
public sealed class CuContextHandle : SafeHandle
{
    public CuContextHandle(nint context, int device) : base(0, ownsHandle: true)
    {
        SetHandle(context);
        Device = device;
    }

    public int Device { get; }
    public override bool IsInvalid => handle == 0;

    /// <summary>Makes this context current on the calling thread (every thread that touches the device must).</summary>
    public void MakeCurrent() => CudaException.Check(LibCuda.cuCtxSetCurrent(handle));

    protected override bool ReleaseHandle() => LibCuda.cuDevicePrimaryCtxRelease_v2(Device) == CuResult.CUDA_SUCCESS;
}
