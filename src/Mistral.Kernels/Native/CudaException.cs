using System.Runtime.CompilerServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// A failed call into the CUDA driver, NVRTC, cuBLAS or NCCL: carries the status name and the call expression, so a
/// failure reads "cuMemAlloc_v2(out ptr, bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2)".
/// </summary>
public class CudaException : Exception
{
    public CudaException(string library, string status, int code, string call)
        : base($"{call} failed: {status} ({code})")
    {
        Library = library;
        Status = status;
        Code = code;
        Call = call;
    }

    public CudaException(string message) : base(message)
    {
        Library = Status = Call = "";
    }

    /// <summary>"cuda", "nvrtc", "cublas" or "nccl".</summary>
    public string Library { get; }
    /// <summary>The status enum's name, e.g. CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public string Status { get; }
    public int Code { get; }
    public string Call { get; }

    public static void Check(CuResult status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != CuResult.CUDA_SUCCESS) throw new CudaException("cuda", status.ToString(), (int)status, call);
    }

    public static void Check(NvrtcResult status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != NvrtcResult.NVRTC_SUCCESS) throw new CudaException("nvrtc", status.ToString(), (int)status, call);
    }

    public static void Check(CublasStatus status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != CublasStatus.CUBLAS_STATUS_SUCCESS) throw new CudaException("cublas", status.ToString(), (int)status, call);
    }

    public static void Check(NcclResult status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != NcclResult.ncclSuccess) throw new CudaException("nccl", status.ToString(), (int)status, call);
    }
}

/// <summary>The driver loaded but there is no usable GPU (cuInit returned CUDA_ERROR_NO_DEVICE, or no ordinal).</summary>
public sealed class NoCudaDeviceException(string message) : CudaException(message);
