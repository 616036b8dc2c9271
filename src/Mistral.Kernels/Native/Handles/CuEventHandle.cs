namespace Mistral.Kernels.Native.Handles;

/// <summary>An event for ordering and timing (cuEventCreate).</summary>
public sealed class CuEventHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCuda.cuEventDestroy_v2(value) == CuResult.CUDA_SUCCESS;
}
