namespace Mistral.Kernels.Native.Handles;

/// <summary>An instantiated, launchable graph (cuGraphInstantiateWithFlags).</summary>
public sealed class CuGraphExecHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCuda.cuGraphExecDestroy(value) == CuResult.CUDA_SUCCESS;
}
