using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Distributed;

/// <summary>
/// The collectives data-parallel training needs, over the ranks of one run; the trainer never knows which implementation
/// it has: <see cref="SingleRankCommunicator"/> (one process, no-ops), <see cref="MpiCommunicator"/> (CPU and emulated
/// ranks: tensors go through host memory) or <see cref="NcclCommunicator"/> (CUDA tensors, device to device). Every
/// collective must be called by every rank in the same order. Results are identical on every rank, and the same from
/// run to run for the same world size. Tensors belong to the ops the communicator was opened with.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>"single", "mpi" or "nccl".</summary>
    string Name { get; }

    int Rank { get; }
    int WorldSize { get; }

    /// <summary>The rank among those on this machine (the GPU ordinal on CUDA).</summary>
    int LocalRank { get; }

    /// <summary>Reduces every tensor in place, as one operation (a bucket): each ends with the combined values on every rank.</summary>
    void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op);

    /// <summary>The same for host values (losses, counts), in fp64.</summary>
    void AllReduce(Span<double> values, ReduceOp op);

    /// <summary>
    /// Sums every rank's tensors into <paramref name="root"/>'s, as one operation (a bucket); the other ranks' tensors
    /// are left as they were (ZeRO-1: a gradient is only needed by the rank that owns its optimizer state).
    /// </summary>
    void Reduce(IReadOnlyList<Tensor> tensors, int root);

    /// <summary>Every rank's tensors receive <paramref name="root"/>'s values.</summary>
    void Broadcast(IReadOnlyList<Tensor> tensors, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every rank of the run with <paramref name="exitCode"/> (MPI_Abort); does not return.</summary>
    void Abort(int exitCode);
}
