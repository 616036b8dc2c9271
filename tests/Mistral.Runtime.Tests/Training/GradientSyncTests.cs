using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Training;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class GradientSyncTests
{
    /// <summary>N identical ranks, simulated: a sum multiplies by N; records each collective's tensor sizes.</summary>
    private sealed class MirrorRanks(CpuOps ops, int worldSize) : ICommunicator
    {
        public List<long[]> Calls { get; } = [];
        public string Name => "mirror";
        public int Rank => 0;
        public int WorldSize => worldSize;
        public int LocalRank => 0;

        public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
        {
            Calls.Add(tensors.Select(t => t.ElementCount).ToArray());
            foreach (var t in tensors) ops.Scale(t, op == ReduceOp.Sum ? worldSize : 1);
        }

        public void AllReduce(Span<double> values, ReduceOp op)
        {
            for (int i = 0; i < values.Length; i++) values[i] *= op == ReduceOp.Sum ? worldSize : 1;
        }

        public void Reduce(IReadOnlyList<Tensor> tensors, int root)
        {
            Calls.Add(tensors.Select(t => t.ElementCount).ToArray());
            if (root == Rank) foreach (var t in tensors) ops.Scale(t, worldSize);
        }

        public void Broadcast(IReadOnlyList<Tensor> tensors, int root) => Calls.Add(tensors.Select(t => t.ElementCount).ToArray());
        public void Barrier() { }
        public void Abort(int exitCode) => throw new InvalidOperationException("abort");
        public void Dispose() { }
    }

    private static TrainableParameter Parameter(CpuOps ops, int n, float grad)
    {
        var g = ops.Allocate(new Shape(n), DType.F32);
        ops.Fill(g, grad);
        return new TrainableParameter($"p{n}", ops.Allocate(new Shape(n), DType.F32), g);
    }

    [Fact]
    public void AllReduceGradients_BucketsConsecutiveParametersUpToTheCap_AndSums()
    {
        using var ops = new CpuOps();
        var parameters = new[] { 3, 4, 10, 2, 2 }.Select((n, i) => Parameter(ops, n, i + 1)).ToList();
        var ranks = new MirrorRanks(ops, worldSize: 2);
        var sync = new GradientSync(ranks, parameters, bucketElements: 8);

        sync.AllReduceGradients();

        // 3+4 fit in 8; 10 exceeds the cap alone; 2+2 share the last bucket.
        Assert.Equal(3, sync.BucketCount);
        Assert.Equal([[3L, 4L], [10L], [2L, 2L]], ranks.Calls);
        var grad = new float[10];
        ops.Download(parameters[2].Grad, grad);
        Assert.All(grad, g => Assert.Equal(6f, g)); // 3 on each of 2 ranks
    }

    [Fact]
    public void SingleRank_EveryCallIsANoOp()
    {
        using var ops = new CpuOps();
        var p = Parameter(ops, 5, 1.25f);
        var sync = new GradientSync(new SingleRankCommunicator(), [p]);
        sync.AllReduceGradients();
        sync.BroadcastParameters();
        var grad = new float[5];
        ops.Download(p.Grad, grad);
        Assert.All(grad, g => Assert.Equal(1.25f, g));
        Assert.Equal(2.5, sync.Sum(2.5));
        Assert.True(sync.AnyRank(true));
        Assert.False(sync.AnyRank(false));
        Assert.True(sync.SameOnEveryRank(17));
    }

    [Fact]
    public void SameOnEveryRank_EqualValues_TrueForMirroredRanks()
    {
        using var ops = new CpuOps();
        var sync = new GradientSync(new MirrorRanks(ops, 3), []);
        Assert.True(sync.SameOnEveryRank(40));
        Assert.True(sync.AnyRank(true));
        Assert.Equal(7.5, sync.Sum(2.5));
    }
}
