namespace Mistral.Kernels.Native.Handles;

/// <summary>A captured graph (cuStreamEndCapture).</summary>
public sealed class CuGraphHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCuda.cuGraphDestroy(value) == CuResult.CUDA_SUCCESS;
}
