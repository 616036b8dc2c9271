using Mistral.Kernels.Distributed;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Distributed;

/// <summary>
/// What can be checked in one process without MPI or a GPU: a world of one loads no library and changes nothing, and
/// the NCCL communicator refuses what it cannot run with a reason. The MPI path itself runs under mpirun in
/// Mistral.Cli.Tests (DataParallelFinetuneTests).
/// </summary>
public sealed class CommunicatorTests
{
    [Fact]
    public void Open_WorldOfOne_IsSingleRankAndLeavesTensorsAlone()
    {
        using var ops = new CpuOps();
        using var comm = Communicator.Open(ops, WorldOptions.Single, _ => { }, 3);
        Assert.IsType<SingleRankCommunicator>(comm);
        Assert.Equal((0, 1, 0), (comm.Rank, comm.WorldSize, comm.LocalRank));
        using var t = ops.Upload([1.5f, -2f, 3.25f], new Shape(3), DType.F32);
        comm.AllReduce([t], ReduceOp.Average);
        comm.Reduce([t], root: 0);
        comm.Broadcast([t], root: 0);
        Span<double> host = [7.0];
        comm.AllReduce(host, ReduceOp.Sum);
        comm.Barrier();
        var back = new float[3];
        ops.Download(t, back);
        Assert.Equal([1.5f, -2f, 3.25f], back);
        Assert.Equal(7.0, host[0]);
        Assert.Null(NativeLibraryLoader.LoadedPath(LibMpi.Library)); // a single process never loads libmpi
    }

    [Fact]
    public void NcclCreate_EmulatedDevice_RefusesAndPointsAtMpi()
    {
        using var ops = new CudaOps(TestDevices.Emulated(), DType.F32, ownsDevice: true);
        var e = Assert.Throws<ArgumentException>(() => NcclCommunicator.Create(null!, ops));
        Assert.Equal("NCCL collectives need tensors on a real GPU; the emu device's ranks communicate over MPI", e.Message);
    }

    [Fact]
    public void LoadNccl_Missing_OneMessageNamingTheLibraryAndEveryPathTried()
    {
        if (NativeLibraryLoader.TryLoad(LibNccl.Library, out var reason)) Assert.Skip("libnccl.so.2 is installed here");
        Assert.StartsWith("libnccl not found (needed for GPU collectives across ranks). Tried: ", reason, StringComparison.Ordinal);
        Assert.Contains("/usr/local/cuda/lib64/libnccl.so.2", reason, StringComparison.Ordinal);
        Assert.Contains("libnccl.so.2 (system search path)", reason, StringComparison.Ordinal);
        Assert.Contains("--cuda-lib-dir", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingMpi_Message_NamesOpenMpiAndRefusesMpich()
    {
        var e = new NativeLibraryMissingException(LibMpi.Library, ["/usr/local/cuda/lib64/libmpi.so.40", "libmpi.so.40 (system search path)"]);
        Assert.Equal("libmpi not found (needed to run as one of several ranks under mpirun). " +
                     "Tried: /usr/local/cuda/lib64/libmpi.so.40, libmpi.so.40 (system search path). " +
                     "Install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin) or put its libmpi.so.40 on LD_LIBRARY_PATH; MPICH is not supported.",
            e.Message);
    }
}
