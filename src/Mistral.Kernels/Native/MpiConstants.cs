using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// OpenMPI's predefined handles, which its mpi.h defines as the addresses of exported globals
/// (<c>#define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)</c>): read once from the loaded
/// libmpi. A libmpi without these symbols is not OpenMPI, and is refused with that reason.
/// </summary>
public sealed record MpiConstants(nint CommWorld, nint Float, nint Double, nint Byte, nint OpSum, nint OpMax, nint ErrorsReturn)
{
    public static MpiConstants Resolve()
    {
        var library = NativeLibraryLoader.Handle(LibMpi.Library);
        nint Global(string symbol) => NativeLibrary.TryGetExport(library, symbol, out var address)
            ? address
            : throw new DllNotFoundException($"{NativeLibraryLoader.LoadedPath(LibMpi.Library)} has no symbol {symbol}: it is not OpenMPI " +
                                             "(only OpenMPI's libmpi.so.40 is supported; MPICH encodes MPI handles differently)");
        return new MpiConstants(
            Global("ompi_mpi_comm_world"), Global("ompi_mpi_float"), Global("ompi_mpi_double"), Global("ompi_mpi_byte"),
            Global("ompi_mpi_op_sum"), Global("ompi_mpi_op_max"), Global("ompi_mpi_errors_return"));
    }
}
