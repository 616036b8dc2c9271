namespace Mistral.Kernels.Native.Handles;

/// <summary>A stream (cuStreamCreate).</summary>
public sealed class CuStreamHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCuda.cuStreamDestroy_v2(value) == CuResult.CUDA_SUCCESS;
}
