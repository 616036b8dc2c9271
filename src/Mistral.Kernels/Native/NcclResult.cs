namespace Mistral.Kernels.Native;

/// <summary>ncclResult_t, copied from nccl.h.</summary>
public enum NcclResult
{
    ncclSuccess = 0,
    ncclUnhandledCudaError = 1,
    ncclSystemError = 2,
    ncclInternalError = 3,
    ncclInvalidArgument = 4,
    ncclInvalidUsage = 5,
    ncclRemoteError = 6,
    ncclInProgress = 7,
}
