using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// The part of MPI the ranks of a data-parallel run need, native spelling, for OpenMPI's libmpi.so.40 (Debian's
/// openmpi-bin, most clusters). OpenMPI's handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler) are pointers, and
/// its predefined ones (MPI_COMM_WORLD = &amp;ompi_mpi_comm_world, MPI_FLOAT = &amp;ompi_mpi_float, ...) are the addresses
/// of exported globals: <see cref="MpiConstants"/> looks them up in the loaded library. MPICH (libmpi.so.12) encodes
/// the same handles as integers with other values, so it is not supported: its library is never probed.
/// Resolved through <see cref="NativeLibraryLoader"/>, and loaded only when a run has more than one rank (or asks for MPI).
/// </summary>
public static unsafe partial class LibMpi
{
    public const string Library = "mpi";

    /// <summary>MPI_THREAD_SERIALIZED: any thread may call, one at a time (the trainer's thread and the watchdog's abort).</summary>
    public const int MPI_THREAD_SERIALIZED = 2;
    public const int MPI_SUCCESS = 0;
    /// <summary>OpenMPI's MPI_MAX_ERROR_STRING.</summary>
    public const int MPI_MAX_ERROR_STRING = 256;
    /// <summary>OpenMPI's MPI_IN_PLACE: ((void *) 1).</summary>
    public static readonly void* MPI_IN_PLACE = (void*)1;

    [LibraryImport(Library)] public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, out int provided);
    [LibraryImport(Library)] public static partial int MPI_Initialized(out int flag);
    [LibraryImport(Library)] public static partial int MPI_Finalized(out int flag);
    [LibraryImport(Library)] public static partial int MPI_Finalize();
    [LibraryImport(Library)] public static partial int MPI_Comm_rank(nint comm, out int rank);
    [LibraryImport(Library)] public static partial int MPI_Comm_size(nint comm, out int size);
    [LibraryImport(Library)] public static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);
    [LibraryImport(Library)] public static partial int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Reduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, int root, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Barrier(nint comm);
    [LibraryImport(Library)] public static partial int MPI_Abort(nint comm, int errorcode);
    [LibraryImport(Library)] public static partial int MPI_Error_string(int errorcode, byte* str, out int resultlen);
}
