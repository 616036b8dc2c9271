using Mistral.Kernels.Native;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device;

/// <summary>
/// The arguments of one cublasGemmEx (BatchCount 1) or cublasGemmStridedBatchedEx call, column-major, field for field
/// as <see cref="CudaBlas"/> passes them: for b in [0, BatchCount), C_b[m, n] = Alpha · op(A_b) · op(B_b) + Beta · C_b,
/// element (i, j) of a matrix X at X[i + j · ldx], op(X) = Xᵀ when its Trans is CUBLAS_OP_T, types as cudaDataType.
/// <see cref="From"/> is the one translation from a row-major <see cref="GemmArgs"/>; the emulator's GEMM computes
/// this struct's definition, so a transpose, operand-order or leading-dimension slip in the translation fails there.
/// </summary>
public readonly record struct CublasGemmCall(
    int TransA, int TransB, int M, int N, int K, float Alpha,
    ulong A, int AType, int Lda, long StrideA,
    ulong B, int BType, int Ldb, long StrideB,
    float Beta, ulong C, int CType, int Ldc, long StrideC, int BatchCount)
{
    /// <summary>
    /// A row-major C[M,N] = op(A)·op(B) is the column-major Cᵀ[N,M] = op(B)ᵀ·op(A)ᵀ, so B goes first and M/N swap; each
    /// stored matrix read column-major is already its transpose, so the op flags and leading dimensions carry over.
    /// </summary>
    public static CublasGemmCall From(in GemmArgs g)
    {
        g.Validate();
        int input = DataType(g.InputType);
        return new CublasGemmCall(
            TransA: Op(g.TransposeB), TransB: Op(g.TransposeA), M: g.N, N: g.M, K: g.K, Alpha: g.Alpha,
            A: g.B, AType: input, Lda: g.Ldb, StrideA: g.StrideB,
            B: g.A, BType: input, Ldb: g.Lda, StrideB: g.StrideA,
            Beta: g.Beta, C: g.C, CType: DataType(g.OutputType), Ldc: g.Ldc, StrideC: g.StrideC, BatchCount: g.BatchCount);
    }

    /// <summary>What cuBLAS answers CUBLAS_STATUS_INVALID_VALUE to, as an <see cref="ArgumentException"/> naming the field.</summary>
    public void Validate()
    {
        if (TransA is not (LibCublas.CUBLAS_OP_N or LibCublas.CUBLAS_OP_T)) throw new ArgumentException($"cuBLAS GEMM transa {TransA} is neither N nor T");
        if (TransB is not (LibCublas.CUBLAS_OP_N or LibCublas.CUBLAS_OP_T)) throw new ArgumentException($"cuBLAS GEMM transb {TransB} is neither N nor T");
        if (M < 0 || N < 0 || K < 0 || BatchCount < 0) throw new ArgumentException($"cuBLAS GEMM with m={M}, n={N}, k={K}, batch={BatchCount}");
        if (Lda < Math.Max(1, TransA == LibCublas.CUBLAS_OP_N ? M : K)) throw new ArgumentException($"cuBLAS GEMM lda {Lda} is shorter than a column of A");
        if (Ldb < Math.Max(1, TransB == LibCublas.CUBLAS_OP_N ? K : N)) throw new ArgumentException($"cuBLAS GEMM ldb {Ldb} is shorter than a column of B");
        if (Ldc < Math.Max(1, M)) throw new ArgumentException($"cuBLAS GEMM ldc {Ldc} is shorter than a column of C ({M})");
        if (AType != BType) throw new ArgumentException($"cuBLAS GEMM with A of type {AType} and B of type {BType}");
    }

    public static int DataType(DType type) => type switch
    {
        DType.F32 => LibCublas.CUDA_R_32F,
        DType.BF16 => LibCublas.CUDA_R_16BF,
        DType.F16 => LibCublas.CUDA_R_16F,
        _ => throw new ArgumentException($"cuBLAS has no {type} GEMM here"),
    };

    private static int Op(bool transpose) => transpose ? LibCublas.CUBLAS_OP_T : LibCublas.CUBLAS_OP_N;
}
