using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device;

/// <summary>
/// cuBLAS on a device's stream: row-major <see cref="GemmArgs"/> mapped onto column-major cublasGemmEx. A row-major
/// C[M,N] = op(A)·op(B) is the column-major Cᵀ[N,M] = op(B)ᵀ·op(A)ᵀ, so B goes first and M/N swap; each stored matrix
/// read column-major is already its transpose, so the op flags carry over unchanged.
/// The handle has its own workspace, allocated once here: without one, cuBLAS allocates from its internal pool
/// on first use per stream, which inside graph capture becomes an allocation the graph replays (and grows with each
/// capture). Set after cublasSetStream, which resets the workspace to that internal pool.
/// </summary>
internal sealed unsafe class CudaBlas : IDisposable
{
    private readonly CublasHandle _handle;
    private readonly CuContextHandle _context;
    private readonly ulong _workspace;

    public CudaBlas(CuContextHandle context, nint stream, int computeCapability)
    {
        _context = context;
        CudaException.Check(LibCublas.cublasCreate_v2(out nint raw));
        _handle = new CublasHandle(context, raw);
        CudaException.Check(LibCublas.cublasSetStream_v2(raw, stream));
        WorkspaceBytes = WorkspaceFor(computeCapability);
        CudaException.Check(LibCuda.cuMemAlloc_v2(out _workspace, (nuint)WorkspaceBytes), $"cuMemAlloc_v2(cuBLAS workspace, {WorkspaceBytes} bytes)");
        CudaException.Check(LibCublas.cublasSetWorkspace_v2(raw, _workspace, (nuint)WorkspaceBytes));
        CudaException.Check(LibCublas.cublasGetVersion_v2(raw, out int version));
        Version = FormatVersion(version);
    }

    /// <summary>"12.4.5": the loaded cuBLAS.</summary>
    public string Version { get; }

    public long WorkspaceBytes { get; }

    /// <summary>cuBLAS's documented recommendation: 32 MiB on Hopper (its GEMM kernels split K wider), 4 MiB before.</summary>
    public static long WorkspaceFor(int computeCapability) => computeCapability >= 90 ? 32L << 20 : 4L << 20;

    /// <summary>cublasGetVersion's integer (major·10000 + minor·100 + patch since cuBLAS 11) as "12.4.5".</summary>
    public static string FormatVersion(int version) => $"{version / 10000}.{version / 100 % 100}.{version % 100}";

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

    public void Dispose()
    {
        _handle.Dispose();
        _context.MakeCurrent();
        LibCuda.cuMemFree_v2(_workspace);
    }
}
