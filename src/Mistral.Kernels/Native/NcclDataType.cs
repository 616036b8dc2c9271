namespace Mistral.Kernels.Native;

/// <summary>ncclDataType_t, copied from nccl.h (NCCL ≥ 2.10, which has bfloat16).</summary>
public enum NcclDataType
{
    ncclInt8 = 0,
    ncclUint8 = 1,
    ncclInt32 = 2,
    ncclUint32 = 3,
    ncclInt64 = 4,
    ncclUint64 = 5,
    ncclFloat16 = 6,
    ncclFloat32 = 7,
    ncclFloat64 = 8,
    ncclBfloat16 = 9,
}
