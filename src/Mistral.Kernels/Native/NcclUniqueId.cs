namespace Mistral.Kernels.Native;

/// <summary>ncclUniqueId: NCCL_UNIQUE_ID_BYTES (128) opaque bytes, made by rank 0 and broadcast to the others (over MPI).</summary>
public unsafe struct NcclUniqueId
{
    public const int Size = 128;
    public fixed byte Internal[Size];
}
