namespace Mistral.Kernels.Native.Handles;

/// <summary>A loaded module (cuModuleLoadData).</summary>
public sealed class CuModuleHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCuda.cuModuleUnload(value) == CuResult.CUDA_SUCCESS;
}
