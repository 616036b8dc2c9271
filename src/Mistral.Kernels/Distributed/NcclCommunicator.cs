using System.Diagnostics;
using Mistral.Kernels.Device;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> for CUDA ranks: tensor collectives run device to device with NCCL on the ops' stream, one
/// GPU per rank (the local rank's ordinal, chosen when the ops were opened); MPI launched the ranks and carries NCCL's
/// unique id from rank 0, and still serves host values, barriers and aborts. A bucket of tensors is one NCCL group
/// (fused by NCCL into one launch). Waits poll the stream and ncclCommGetAsyncError, so a failed peer ends the wait
/// with NCCL's error or, past the collective timeout, an abort naming this rank, never a hang.
/// </summary>
public sealed unsafe class NcclCommunicator : ICommunicator
{
    private readonly MpiCommunicator _mpi;
    private readonly CudaOps _ops;
    private readonly CudaDevice _device;
    private nint _comm;

    private NcclCommunicator(MpiCommunicator mpi, CudaOps ops, CudaDevice device, nint comm) =>
        (_mpi, _ops, _device, _comm) = (mpi, ops, device, comm);

    /// <summary>
    /// Joins every rank's GPU into one NCCL communicator. Throws <see cref="ArgumentException"/> when the ops are not on
    /// a real CUDA device (CPU and emulated ranks use <see cref="MpiCommunicator"/>), and
    /// <see cref="NativeLibraryMissingException"/> when libnccl.so.2 is not found. Takes ownership of <paramref name="mpi"/>.
    /// </summary>
    public static NcclCommunicator Create(MpiCommunicator mpi, CudaOps ops)
    {
        if (ops.Device is not CudaDevice device)
            throw new ArgumentException($"NCCL collectives need tensors on a real GPU; the {ops.Name} device's ranks communicate over MPI");
        NativeLibraryLoader.Handle(LibNccl.Library);
        NcclUniqueId id = default;
        if (mpi.Rank == 0) CudaException.Check(LibNccl.ncclGetUniqueId(out id));
        mpi.Broadcast(new Span<byte>(id.Internal, NcclUniqueId.Size), root: 0);
        device.Synchronize(); // makes the device's context current: NCCL binds to the current device
        nint comm;
        using (mpi.Guard("ncclCommInitRank"))
            CudaException.Check(LibNccl.ncclCommInitRank(out comm, mpi.WorldSize, id, mpi.Rank));
        return new NcclCommunicator(mpi, ops, device, comm);
    }

    public string Name => "nccl";
    public int Rank => _mpi.Rank;
    public int WorldSize => _mpi.WorldSize;
    public int LocalRank => _mpi.LocalRank;

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
    {
        var views = tensors.Select(t => DeviceChecks.On(_ops, "all-reduce", "tensor", t)).ToList();
        CudaException.Check(LibNccl.ncclGroupStart());
        foreach (var t in views)
        {
            void* p = (void*)t.Pointer;
            CudaException.Check(LibNccl.ncclAllReduce(p, p, (nuint)t.ElementCount, DataType(t.DType),
                op == ReduceOp.Average ? NcclRedOp.ncclAvg : NcclRedOp.ncclSum, _comm, _device.Stream));
        }
        CudaException.Check(LibNccl.ncclGroupEnd());
        Wait("all-reduce");
    }

    public void AllReduce(Span<double> values, ReduceOp op) => _mpi.AllReduce(values, op);

    public void Reduce(IReadOnlyList<Tensor> tensors, int root) =>
        Grouped(tensors, "reduce", (p, count, type) => LibNccl.ncclReduce(p, p, count, type, NcclRedOp.ncclSum, root, _comm, _device.Stream));

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root) =>
        Grouped(tensors, "broadcast", (p, count, type) => LibNccl.ncclBroadcast(p, p, count, type, root, _comm, _device.Stream));

    /// <summary>One in-place NCCL call per tensor (counts in elements), fused into one group, then the bounded wait.</summary>
    private void Grouped(IReadOnlyList<Tensor> tensors, string collective, InPlaceCall call)
    {
        var views = tensors.Select(t => DeviceChecks.On(_ops, collective, "tensor", t)).ToList();
        CudaException.Check(LibNccl.ncclGroupStart());
        foreach (var t in views) CudaException.Check(call((void*)t.Pointer, (nuint)t.ElementCount, DataType(t.DType)));
        CudaException.Check(LibNccl.ncclGroupEnd());
        Wait(collective);
    }

    private delegate NcclResult InPlaceCall(void* buffer, nuint count, NcclDataType dataType);

    public void Barrier() => _mpi.Barrier();

    public void Abort(int exitCode)
    {
        if (_comm != 0) LibNccl.ncclCommAbort(_comm);
        _comm = 0;
        _mpi.Abort(exitCode);
    }

    /// <summary>Until the stream has drained: NCCL's asynchronous error ends the wait, and so does the collective timeout.</summary>
    private void Wait(string collective)
    {
        long start = Stopwatch.GetTimestamp();
        while (!_device.IsIdle())
        {
            CudaException.Check(LibNccl.ncclCommGetAsyncError(_comm, out var asyncError));
            if (asyncError is not (NcclResult.ncclSuccess or NcclResult.ncclInProgress))
            {
                LibNccl.ncclCommAbort(_comm);
                _comm = 0;
                throw new CudaException("nccl", asyncError.ToString(), (int)asyncError, $"{collective} (asynchronous error: another rank may have failed)");
            }
            if (Stopwatch.GetElapsedTime(start) > _mpi.CollectiveTimeout)
            {
                LibNccl.ncclCommAbort(_comm);
                _comm = 0;
                _mpi.OnHang($"no answer from the other ranks within {_mpi.CollectiveTimeout.TotalSeconds:0.#} s in NCCL {collective}");
            }
            Thread.Yield();
        }
    }

    private static NcclDataType DataType(DType dtype) => dtype switch
    {
        DType.F32 => NcclDataType.ncclFloat32,
        DType.BF16 => NcclDataType.ncclBfloat16,
        DType.F16 => NcclDataType.ncclFloat16,
        DType.I32 => NcclDataType.ncclInt32,
        _ => throw new ArgumentException($"NCCL collectives take F32, BF16, F16 or I32 tensors, not {dtype}"),
    };

    public void Dispose()
    {
        if (_comm != 0) LibNccl.ncclCommDestroy(_comm);
        _comm = 0;
        _mpi.Dispose();
    }
}
