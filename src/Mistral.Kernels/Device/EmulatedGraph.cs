namespace Mistral.Kernels.Device;

/// <summary>
/// A graph captured by <see cref="EmulatedDevice.Capture"/>: the work its body issued, kept as it was issued (each
/// launch with its argument values copied at capture, device pointers included, as cuStreamEndCapture keeps a kernel
/// node's parameters; each GEMM with its cuBLAS arguments), run again in order by <see cref="Launch"/>.
/// </summary>
public sealed class EmulatedGraph : IDeviceGraph
{
    private readonly IReadOnlyList<(string What, Action Run)> _nodes;
    private bool _disposed;

    internal EmulatedGraph(IReadOnlyList<(string What, Action Run)> nodes) => _nodes = nodes;

    /// <summary>What each node does, in order ("launch rmsnorm_forward_f32", "gemm", "memset", "copy").</summary>
    public IReadOnlyList<string> Nodes => _nodes.Select(n => n.What).ToArray();

    public void Launch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var node in _nodes) node.Run();
    }

    public void Dispose() => _disposed = true;
}
