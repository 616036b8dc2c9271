using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// NCCL 2 (libnccl.so.2), native spelling: the collectives of data-parallel training on GPUs. Counts are elements of the
/// datatype, not bytes; <c>stream</c> is a CUstream (cudaStream_t is the same object). Resolved through
/// <see cref="NativeLibraryLoader"/>, loaded only when a run on CUDA has more than one rank.
/// </summary>
public static unsafe partial class LibNccl
{
    public const string Library = "nccl";

    [LibraryImport(Library)] public static partial NcclResult ncclGetVersion(out int version);
    [LibraryImport(Library)] public static partial NcclResult ncclGetUniqueId(out NcclUniqueId uniqueId);
    [LibraryImport(Library)] public static partial NcclResult ncclCommInitRank(out nint comm, int nranks, NcclUniqueId commId, int rank);
    [LibraryImport(Library)] public static partial NcclResult ncclCommDestroy(nint comm);
    [LibraryImport(Library)] public static partial NcclResult ncclCommAbort(nint comm);
    [LibraryImport(Library)] public static partial NcclResult ncclCommGetAsyncError(nint comm, out NcclResult asyncError);
    [LibraryImport(Library)] public static partial nint ncclGetErrorString(NcclResult result);

    [LibraryImport(Library)]
    public static partial NcclResult ncclAllReduce(void* sendbuff, void* recvbuff, nuint count, NcclDataType datatype, NcclRedOp op, nint comm, nint stream);
    [LibraryImport(Library)]
    public static partial NcclResult ncclReduce(void* sendbuff, void* recvbuff, nuint count, NcclDataType datatype, NcclRedOp op, int root, nint comm, nint stream);
    [LibraryImport(Library)]
    public static partial NcclResult ncclReduceScatter(void* sendbuff, void* recvbuff, nuint recvcount, NcclDataType datatype, NcclRedOp op, nint comm, nint stream);
    [LibraryImport(Library)]
    public static partial NcclResult ncclAllGather(void* sendbuff, void* recvbuff, nuint sendcount, NcclDataType datatype, nint comm, nint stream);
    [LibraryImport(Library)]
    public static partial NcclResult ncclBroadcast(void* sendbuff, void* recvbuff, nuint count, NcclDataType datatype, int root, nint comm, nint stream);
    [LibraryImport(Library)] public static partial NcclResult ncclGroupStart();
    [LibraryImport(Library)] public static partial NcclResult ncclGroupEnd();
}
