using Mistral.Kernels.Distributed;

namespace Mistral.Runtime.Training;

/// <summary>
/// What data parallelism adds to a training step, over an <see cref="ICommunicator"/>: gradients summed across ranks in
/// fp32 buckets of at most <see cref="BucketElements"/> (consecutive parameters, one collective each), host scalars
/// summed, a stop flag agreed, and the parameters made identical at the start. Sums, not means: each rank's gradient
/// is already scaled by 1 / (the whole step's loss weight), so the sum over ranks is the step's gradient, exactly what
/// one process accumulating every micro-batch gets. With one rank every call is a no-op.
/// </summary>
public sealed class GradientSync
{
    /// <summary>4 Mi fp32 elements (16 MiB): large enough to amortize a collective's latency, small enough to overlap later.</summary>
    public const long DefaultBucketElements = 4L << 20;

    private readonly ICommunicator _comm;
    private readonly List<TrainableParameter[]> _buckets;

    public GradientSync(ICommunicator communicator, IReadOnlyList<TrainableParameter> parameters, long bucketElements = DefaultBucketElements)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketElements, 1);
        _comm = communicator;
        BucketElements = bucketElements;
        _buckets = Buckets(parameters, bucketElements);
    }

    /// <summary>Consecutive parameters grouped into buckets of at most <paramref name="bucketElements"/> (a larger tensor alone).</summary>
    internal static List<TrainableParameter[]> Buckets(IEnumerable<TrainableParameter> parameters, long bucketElements)
    {
        var buckets = new List<TrainableParameter[]>();
        var bucket = new List<TrainableParameter>();
        long size = 0;
        foreach (var p in parameters)
        {
            if (bucket.Count > 0 && size + p.Grad.ElementCount > bucketElements)
            {
                buckets.Add([.. bucket]);
                (bucket, size) = ([], 0);
            }
            bucket.Add(p);
            size += p.Grad.ElementCount;
        }
        if (bucket.Count > 0) buckets.Add([.. bucket]);
        return buckets;
    }

    public long BucketElements { get; }
    public int BucketCount => _buckets.Count;
    private bool Alone => _comm.WorldSize == 1;

    /// <summary>Every parameter's Grad becomes the sum of all ranks' Grads (identical on every rank).</summary>
    public void AllReduceGradients()
    {
        if (Alone) return;
        foreach (var bucket in _buckets) _comm.AllReduce(bucket.Select(p => p.Grad).ToList(), ReduceOp.Sum);
    }

    /// <summary>Every parameter's Value becomes rank 0's (so ranks start from the same weights whatever they loaded).</summary>
    public void BroadcastParameters()
    {
        if (Alone) return;
        foreach (var bucket in _buckets) _comm.Broadcast(bucket.Select(p => p.Value).ToList(), root: 0);
    }

    /// <summary>Σ over ranks of <paramref name="local"/> (the step's loss sum).</summary>
    public double Sum(double local)
    {
        Span<double> value = [local];
        _comm.AllReduce(value, ReduceOp.Sum);
        return value[0];
    }

    /// <summary>True on every rank when <paramref name="local"/> is true on any (Ctrl+C reaching one rank stops them all at the same step).</summary>
    public bool AnyRank(bool local) => Alone ? local : Sum(local ? 1 : 0) > 0;

    /// <summary>True when every rank passed the same value (e.g. the step each resumed from).</summary>
    public bool SameOnEveryRank(double local)
    {
        if (Alone) return true;
        Span<double> moments = [local, local * local];
        _comm.AllReduce(moments, ReduceOp.Sum);
        return moments[1] * _comm.WorldSize == moments[0] * moments[0]; // Cauchy-Schwarz: equality iff all equal
    }
}
