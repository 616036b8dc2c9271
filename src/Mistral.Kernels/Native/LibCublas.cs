using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>cuBLAS (libcublas.so.13/.12/.11), native spelling; column-major as cuBLAS is (see Device/CudaGemm).</summary>
public static unsafe partial class LibCublas
{
    public const string Library = "cublas";

    // cublasOperation_t
    public const int CUBLAS_OP_N = 0;
    public const int CUBLAS_OP_T = 1;
    // cudaDataType_t (library_types.h)
    public const int CUDA_R_32F = 0;
    public const int CUDA_R_16F = 2;
    public const int CUDA_R_16BF = 14;
    // cublasComputeType_t
    public const int CUBLAS_COMPUTE_32F = 68;
    // cublasGemmAlgo_t
    public const int CUBLAS_GEMM_DEFAULT = -1;

    [LibraryImport(Library)] public static partial CublasStatus cublasCreate_v2(out nint handle);
    [LibraryImport(Library)] public static partial CublasStatus cublasDestroy_v2(nint handle);
    [LibraryImport(Library)] public static partial CublasStatus cublasGetVersion_v2(nint handle, out int version);
    [LibraryImport(Library)] public static partial CublasStatus cublasSetStream_v2(nint handle, nint streamId);
    [LibraryImport(Library)] public static partial CublasStatus cublasSetWorkspace_v2(nint handle, ulong workspace, nuint workspaceSizeInBytes);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasGemmEx(nint handle, int transa, int transb, int m, int n, int k,
        void* alpha, ulong A, int Atype, int lda, ulong B, int Btype, int ldb,
        void* beta, ulong C, int Ctype, int ldc, int computeType, int algo);

    [LibraryImport(Library)]
    public static partial CublasStatus cublasGemmStridedBatchedEx(nint handle, int transa, int transb, int m, int n, int k,
        void* alpha, ulong A, int Atype, int lda, long strideA, ulong B, int Btype, int ldb, long strideB,
        void* beta, ulong C, int Ctype, int ldc, long strideC, int batchCount, int computeType, int algo);
}
