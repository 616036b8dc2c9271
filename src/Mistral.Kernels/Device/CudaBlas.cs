using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;

namespace Mistral.Kernels.Device;

/// <summary>
/// cuBLAS on a device's stream: row-major <see cref="GemmArgs"/> mapped onto column-major cublasGemmEx by
/// <see cref="CublasGemmCall.From"/> (the emulator's GEMM runs the very struct, so the mapping is tested without a GPU).
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
        var c = CublasGemmCall.From(g);
        nint h = _handle.DangerousGetHandle();
        float alpha = c.Alpha, beta = c.Beta;
        if (c.BatchCount == 1)
            CudaException.Check(LibCublas.cublasGemmEx(h, c.TransA, c.TransB, c.M, c.N, c.K, &alpha, c.A, c.AType, c.Lda, c.B, c.BType, c.Ldb,
                &beta, c.C, c.CType, c.Ldc, LibCublas.CUBLAS_COMPUTE_32F, LibCublas.CUBLAS_GEMM_DEFAULT));
        else
            CudaException.Check(LibCublas.cublasGemmStridedBatchedEx(h, c.TransA, c.TransB, c.M, c.N, c.K, &alpha, c.A, c.AType, c.Lda, c.StrideA,
                c.B, c.BType, c.Ldb, c.StrideB, &beta, c.C, c.CType, c.Ldc, c.StrideC, c.BatchCount,
                LibCublas.CUBLAS_COMPUTE_32F, LibCublas.CUBLAS_GEMM_DEFAULT));
    }

    public void Dispose()
    {
        _handle.Dispose();
        _context.MakeCurrent();
        LibCuda.cuMemFree_v2(_workspace);
    }
}
