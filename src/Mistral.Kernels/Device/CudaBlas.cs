using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device;

/// <summary>
/// cuBLAS on a device's stream: row-major <see cref="GemmArgs"/> mapped onto column-major cublasGemmEx. A row-major
/// C[M,N] = op(A)·op(B) is the column-major Cᵀ[N,M] = op(B)ᵀ·op(A)ᵀ, so B goes first and M/N swap; each stored matrix
/// read column-major is already its transpose, so the op flags carry over unchanged.
/// </summary>
internal sealed unsafe class CudaBlas : IDisposable
{
    private readonly CublasHandle _handle;

    public CudaBlas(CuContextHandle context, nint stream)
    {
        CudaException.Check(LibCublas.cublasCreate_v2(out nint raw));
        _handle = new CublasHandle(context, raw);
        CudaException.Check(LibCublas.cublasSetStream_v2(raw, stream));
    }

    public void Gemm(in GemmArgs g)
    {
        g.Validate();
        nint h = _handle.DangerousGetHandle();
        float alpha = g.Alpha, beta = g.Beta;
        int opB = g.TransposeB ? LibCublas.CUBLAS_OP_T : LibCublas.CUBLAS_OP_N;
        int opA = g.TransposeA ? LibCublas.CUBLAS_OP_T : LibCublas.CUBLAS_OP_N;
        int inType = DataType(g.InputType), outType = DataType(g.OutputType);
        if (g.BatchCount == 1)
            CudaException.Check(LibCublas.cublasGemmEx(h, opB, opA, g.N, g.M, g.K, &alpha, g.B, inType, g.Ldb, g.A, inType, g.Lda,
                &beta, g.C, outType, g.Ldc, LibCublas.CUBLAS_COMPUTE_32F, LibCublas.CUBLAS_GEMM_DEFAULT));
        else
            CudaException.Check(LibCublas.cublasGemmStridedBatchedEx(h, opB, opA, g.N, g.M, g.K, &alpha, g.B, inType, g.Ldb, g.StrideB,
                g.A, inType, g.Lda, g.StrideA, &beta, g.C, outType, g.Ldc, g.StrideC, g.BatchCount,
                LibCublas.CUBLAS_COMPUTE_32F, LibCublas.CUBLAS_GEMM_DEFAULT));
    }

    private static int DataType(DType type) => type switch
    {
        DType.F32 => LibCublas.CUDA_R_32F,
        DType.BF16 => LibCublas.CUDA_R_16BF,
        DType.F16 => LibCublas.CUDA_R_16F,
        _ => throw new ArgumentException($"cuBLAS has no {type} GEMM here"),
    };

    public void Dispose() => _handle.Dispose();
}
