using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// ZeRO stage 1, as PyTorch's ZeroRedundancyOptimizer: the parameters are split across ranks whole
/// (<see cref="OptimizerPartition"/>), each rank keeps AdamW moments only for its own, so optimizer memory is ~1/N.
/// A step: each gradient is summed into its owner (reduce, in buckets per owner), the global norm is gathered from
/// the owners' per-tensor sums of squares, each owner runs AdamW on its tensors, then broadcasts them to every rank.
/// Reduce plus broadcast moves the same bytes as the all-reduce it replaces. The reduced sums are elementwise the
/// same as an all-reduce's (with two ranks, a + b either way), so the result is bit for bit stage 0's.
/// Checkpoints: each rank writes optimizer.rank{r}-of-{n}.safetensors.
/// </summary>
public sealed class ShardedOptimizer : IDataParallelOptimizer
{
    private readonly IOps _ops;
    private readonly ICommunicator _comm;
    private readonly IReadOnlyList<TrainableParameter> _parameters;
    private readonly bool[] _owned;
    private readonly List<TrainableParameter[]>[] _bucketsOf; // per owner rank, consecutive owned parameters
    private readonly AdamW _adam;

    /// <param name="createAdamW">builds the AdamW over the parameters given: here only those this rank owns.</param>
    public ShardedOptimizer(IOps ops, ICommunicator communicator, IReadOnlyList<TrainableParameter> parameters,
        Func<IReadOnlyList<TrainableParameter>, AdamW> createAdamW, long bucketElements = GradientSync.DefaultBucketElements)
    {
        (_ops, _comm, _parameters) = (ops, communicator, parameters);
        var sizes = parameters.Select(p => p.Value.ElementCount).ToList();
        Owners = OptimizerPartition.Owners(sizes, communicator.WorldSize);
        _owned = Owners.Select(o => o == communicator.Rank).ToArray();
        _bucketsOf = Enumerable.Range(0, communicator.WorldSize)
            .Select(r => GradientSync.Buckets(parameters.Where((_, i) => Owners[i] == r), bucketElements)).ToArray();
        var mine = parameters.Where((_, i) => _owned[i]).ToList();
        _adam = createAdamW(mine);
        StateBytes = DataParallelOptimizer.StateBytesOf(mine);
        UnshardedStateBytes = DataParallelOptimizer.StateBytesOf(parameters);
        LargestShardBytes = OptimizerPartition.Loads(sizes, Owners, communicator.WorldSize).Max() * DataParallelOptimizer.StateBytesPerElement;
    }

    /// <summary>The rank owning each parameter's state, in parameter order.</summary>
    public IReadOnlyList<int> Owners { get; }

    /// <summary>The most state any rank holds (what sizes the GPUs).</summary>
    public long LargestShardBytes { get; }

    public int ZeroStage => 1;
    public int Step => _adam.Step;
    public long StateBytes { get; }
    public long UnshardedStateBytes { get; }

    public void ReduceGradients()
    {
        if (_comm.WorldSize == 1) return;
        for (int r = 0; r < _comm.WorldSize; r++)
            foreach (var bucket in _bucketsOf[r]) _comm.Reduce(bucket.Select(p => p.Grad).ToList(), root: r);
    }

    /// <summary>
    /// Exact, not merely close: owners compute each tensor's sum of squares, the vector of them is summed across ranks
    /// (x + 0 + … = x, no rounding), and every rank adds them in parameter order, as stage 0 does over whole gradients.
    /// </summary>
    public double GradientNorm()
    {
        var squares = new double[_parameters.Count];
        for (int i = 0; i < squares.Length; i++)
            if (_owned[i]) squares[i] = _ops.SumOfSquares(_parameters[i].Grad);
        if (_comm.WorldSize > 1) _comm.AllReduce(squares, ReduceOp.Sum);
        return GradientClipping.Norm(squares);
    }

    public void Update(double lr, float gradScale)
    {
        _adam.Update(lr, gradScale);
        if (_comm.WorldSize == 1) return;
        for (int r = 0; r < _comm.WorldSize; r++)
            foreach (var bucket in _bucketsOf[r]) _comm.Broadcast(bucket.Select(p => p.Value).ToList(), root: r);
    }

    public void WriteState(string folder) =>
        SafeTensorsWriter.Write(Path.Combine(folder, OptimizerStateFiles.ShardName(_comm.Rank, _comm.WorldSize)), _adam.ExportState());

    public void ReadState(string checkpoint, int step)
    {
        var (state, source) = OptimizerStateFiles.Read(checkpoint, _comm.Rank, _comm.WorldSize, sharded: true);
        _adam.ImportState(state, step, source);
    }

    public void Dispose() => _adam.Dispose();
}
