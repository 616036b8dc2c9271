using Mistral.Kernels.Device;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;

namespace Mistral.Kernels.Distributed;

/// <summary>Picks the <see cref="ICommunicator"/> for a run: none for one process, NCCL for GPU ranks, MPI for the rest.</summary>
public static class Communicator
{
    /// <summary>
    /// A <see cref="SingleRankCommunicator"/> unless <paramref name="world"/> is distributed; then MPI is initialized
    /// (libmpi loaded only now) and GPU ranks join NCCL. <paramref name="report"/> and <paramref name="abortExitCode"/>:
    /// what a rank says, and exits with, when a wait on the others runs past the collective timeout.
    /// </summary>
    public static ICommunicator Open(IOps ops, WorldOptions world, Action<string> report, int abortExitCode)
    {
        if (!world.IsDistributed) return new SingleRankCommunicator();
        var mpi = MpiCommunicator.Initialize(ops, world, report, abortExitCode);
        if (ops is not CudaOps { Device: CudaDevice } cuda) return mpi;
        try
        {
            return NcclCommunicator.Create(mpi, cuda);
        }
        catch
        {
            mpi.Dispose();
            throw;
        }
    }
}
