namespace Mistral.Kernels.Native.Handles;

/// <summary>A cuBLAS handle (cublasCreate_v2), bound to the context that was current when it was created.</summary>
public sealed class CublasHandle(CuContextHandle context, nint value) : CuChildHandle(context, value)
{
    protected override bool Destroy(nint value) => LibCublas.cublasDestroy_v2(value) == CublasStatus.CUBLAS_STATUS_SUCCESS;
}
