namespace Mistral.Kernels.Native;

/// <summary>ncclRedOp_t, copied from nccl.h (ncclAvg needs NCCL ≥ 2.10).</summary>
public enum NcclRedOp
{
    ncclSum = 0,
    ncclProd = 1,
    ncclMax = 2,
    ncclMin = 3,
    ncclAvg = 4,
}
