using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Generation;

/// <summary>
/// The generator's greedy path on ops whose tensors live on a device (CUDA, emulated): argmax runs where the logits are and only the chosen
/// ids cross to the host. Decode steps go through one <see cref="DecodeGraph"/> for the current set of live
/// sequences; when a sequence leaves the batch the graph is rebuilt for the rest (its first step runs eagerly).
/// </summary>
internal sealed class DeviceArgmaxDecoder(ICausalLm model, IDeviceOps device, RollingKvCache cache) : IDisposable
{
    private DecodeGraph? _graph;
    private int[] _graphRows = [];

    /// <summary>nextTokens[rows[i]] = argmax of row i of logits [R, V] (a prefill chunk's last-token logits).</summary>
    public void TakeArgmax(Tensor logits, IReadOnlyList<int> rows, int[] nextTokens)
    {
        var ops = model.Ops;
        using var ids = ops.Allocate(new Shape(rows.Count), DType.I32);   // I32 [R]
        ops.Argmax(logits, ids);
        var host = new int[rows.Count];
        ops.Download(ids, host);
        for (int i = 0; i < rows.Count; i++) nextTokens[rows[i]] = host[i];
    }

    /// <summary>Feeds fedBack[i] to sequence rows[i] and leaves its greedy next token in nextTokens[rows[i]].</summary>
    public void Step(IReadOnlyList<int> rows, int[] fedBack, int[] nextTokens)
    {
        if (_graph is null || !_graphRows.AsSpan().SequenceEqual(rows.ToArray()))
        {
            _graph?.Dispose();
            _graphRows = rows.ToArray();
            _graph = new DecodeGraph(model, device, cache, _graphRows);
        }
        var ids = _graph.Step(fedBack);
        for (int i = 0; i < rows.Count; i++) nextTokens[rows[i]] = ids[i];
    }

    public void Dispose() => _graph?.Dispose();
}
