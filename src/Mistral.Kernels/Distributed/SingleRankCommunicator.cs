using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Distributed;

/// <summary>A world of one: every collective is the identity, so a single process runs exactly as without one.</summary>
public sealed class SingleRankCommunicator : ICommunicator
{
    public string Name => "single";
    public int Rank => 0;
    public int WorldSize => 1;
    public int LocalRank => 0;

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op) { }
    public void AllReduce(Span<double> values, ReduceOp op) { }
    public void Reduce(IReadOnlyList<Tensor> tensors, int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
    public void Barrier() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}
