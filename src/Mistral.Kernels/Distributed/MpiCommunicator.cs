using System.Runtime.InteropServices;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over MPI (OpenMPI), for ranks whose tensors live on the CPU or the emulated device: a
/// bucket is downloaded into one host fp32 buffer, reduced, and uploaded back, so CI runs the trainer's distributed
/// path with `mpirun -np 2` and no GPU. Also the bootstrap of <see cref="NcclCommunicator"/> (its id broadcast, barriers).
/// Sums are a reduce to rank 0 followed by a broadcast rather than MPI_Allreduce: MPI only advises, not promises, that
/// every rank gets the same bits from a floating-point all-reduce, and the ranks' weights must never drift apart.
/// MPI errors are returned, not fatal (MPI_ERRORS_RETURN), and every wait is bounded by <see cref="CollectiveWatchdog"/>.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private const int ChunkElements = 1 << 28; // MPI counts are int

    private readonly IOps _ops;
    private readonly MpiConstants _mpi;
    private readonly CollectiveWatchdog _watchdog;
    private readonly Action<string> _report;
    private readonly int _abortExitCode;
    private bool _disposed;

    private MpiCommunicator(IOps ops, MpiConstants mpi, int rank, int size, int localRank, TimeSpan timeout, Action<string> report, int abortExitCode)
    {
        (_ops, _mpi, Rank, WorldSize, LocalRank, _report, _abortExitCode) = (ops, mpi, rank, size, localRank, report, abortExitCode);
        _watchdog = new CollectiveWatchdog(timeout, OnHang);
    }

    /// <summary>
    /// Initializes MPI for this process (once: MPI cannot be initialized again after it is finalized) and checks that
    /// MPI sees the world the launcher described. Throws <see cref="NativeLibraryMissingException"/> without libmpi.so.40.
    /// <paramref name="report"/> receives the one line said before a hang aborts the run with <paramref name="abortExitCode"/>.
    /// </summary>
    public static MpiCommunicator Initialize(IOps ops, WorldOptions world, Action<string> report, int abortExitCode)
    {
        var mpi = MpiConstants.Resolve();
        MpiException.Check(LibMpi.MPI_Initialized(out int initialized));
        if (initialized == 0)
            MpiException.Check(LibMpi.MPI_Init_thread(null, null, LibMpi.MPI_THREAD_SERIALIZED, out _));
        MpiException.Check(LibMpi.MPI_Comm_set_errhandler(mpi.CommWorld, mpi.ErrorsReturn));
        MpiException.Check(LibMpi.MPI_Comm_rank(mpi.CommWorld, out int rank));
        MpiException.Check(LibMpi.MPI_Comm_size(mpi.CommWorld, out int size));
        if (world.WorldSize > 1 && (rank != world.Rank || size != world.WorldSize))
            throw new InvalidOperationException($"the launcher says rank {world.Rank} of {world.WorldSize}, MPI says rank {rank} of {size}: " +
                                                "was this run started by another MPI's mpirun? (only OpenMPI is supported)");
        return new MpiCommunicator(ops, mpi, rank, size, world.WorldSize > 1 ? world.LocalRank : 0, world.CollectiveTimeout, report, abortExitCode);
    }

    public string Name => "mpi";
    public int Rank { get; }
    public int WorldSize { get; }
    public int LocalRank { get; }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
    {
        var host = Download(tensors);
        Sum(host.AsSpan(), _mpi.Float, "all-reduce");
        if (op == ReduceOp.Average)
            for (int i = 0; i < host.Length; i++) host[i] /= WorldSize;
        Upload(tensors, host);
    }

    public void AllReduce(Span<double> values, ReduceOp op)
    {
        Sum(values, _mpi.Double, "all-reduce");
        if (op == ReduceOp.Average)
            for (int i = 0; i < values.Length; i++) values[i] /= WorldSize;
    }

    public void Reduce(IReadOnlyList<Tensor> tensors, int root)
    {
        var host = Download(tensors);
        Sum(host.AsSpan(), _mpi.Float, "reduce", root, broadcast: false);
        if (Rank == root) Upload(tensors, host);
    }

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        var host = Rank == root ? Download(tensors) : new float[tensors.Sum(t => t.ElementCount)];
        Broadcast(MemoryMarshal.AsBytes(host.AsSpan()), root);
        if (Rank != root) Upload(tensors, host);
    }

    /// <summary>Every rank's <paramref name="data"/> receives <paramref name="root"/>'s bytes (NCCL's unique id, host state).</summary>
    public void Broadcast(Span<byte> data, int root)
    {
        using var guard = _watchdog.Guard("broadcast");
        fixed (byte* p = data)
            for (int start = 0; start < data.Length; start += ChunkElements)
                MpiException.Check(LibMpi.MPI_Bcast(p + start, Math.Min(ChunkElements, data.Length - start), _mpi.Byte, root, _mpi.CommWorld));
    }

    public void Barrier()
    {
        using var guard = _watchdog.Guard("barrier");
        MpiException.Check(LibMpi.MPI_Barrier(_mpi.CommWorld));
    }

    public void Abort(int exitCode)
    {
        LibMpi.MPI_Abort(_mpi.CommWorld, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; this is only if it did
    }

    /// <summary>
    /// Reduce-to-<paramref name="root"/> then, unless told not to, broadcast from it, in chunks of <see cref="ChunkElements"/>;
    /// every rank (or only the root) ends with the root's sum. With two ranks a + b = b + a, so the root changes no bit.
    /// </summary>
    private void Sum<T>(Span<T> data, nint datatype, string what, int root = 0, bool broadcast = true) where T : unmanaged
    {
        using var guard = _watchdog.Guard(what);
        fixed (T* p = data)
        {
            for (int start = 0; start < data.Length; start += ChunkElements)
            {
                int count = Math.Min(ChunkElements, data.Length - start);
                var chunk = p + start;
                MpiException.Check(Rank == root
                    ? LibMpi.MPI_Reduce(LibMpi.MPI_IN_PLACE, chunk, count, datatype, _mpi.OpSum, root, _mpi.CommWorld)
                    : LibMpi.MPI_Reduce(chunk, null, count, datatype, _mpi.OpSum, root, _mpi.CommWorld));
                if (broadcast) MpiException.Check(LibMpi.MPI_Bcast(chunk, count, datatype, root, _mpi.CommWorld));
            }
        }
    }

    /// <summary>The tensors one after another in one host fp32 buffer (a bucket; under 2^31 elements).</summary>
    private float[] Download(IReadOnlyList<Tensor> tensors)
    {
        var host = new float[tensors.Sum(t => t.ElementCount)];
        long offset = 0;
        foreach (var t in tensors)
        {
            _ops.Download(t, host.AsSpan((int)offset, (int)t.ElementCount));
            offset += t.ElementCount;
        }
        return host;
    }

    private void Upload(IReadOnlyList<Tensor> tensors, float[] host)
    {
        long offset = 0;
        foreach (var t in tensors)
        {
            using var up = _ops.Upload(host.AsSpan((int)offset, (int)t.ElementCount), t.Shape, t.DType);
            _ops.Copy(up, t);
            offset += t.ElementCount;
        }
    }

    /// <summary>Bounds a wait outside MPI (ncclCommInitRank blocks until every rank joins) by the same watchdog.</summary>
    internal CollectiveWatchdog.Scope Guard(string collective) => _watchdog.Guard(collective);

    /// <summary>How long a wait on the other ranks may take (NCCL's waits poll against it too).</summary>
    internal TimeSpan CollectiveTimeout => _watchdog.Timeout;

    /// <summary>Reports a wait that ran past the timeout and ends the run.</summary>
    internal void OnHang(string message)
    {
        _report($"rank {Rank}: {message}; aborting the run");
        Abort(_abortExitCode);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog.Dispose();
        if (LibMpi.MPI_Finalized(out int finalized) == LibMpi.MPI_SUCCESS && finalized == 0) LibMpi.MPI_Finalize();
    }
}
