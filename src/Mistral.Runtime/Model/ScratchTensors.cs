using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>
/// Activation buffers reused from one forward step to the next: each named slot keeps its tensor while the requested
/// shape stays the same, so a decode loop allocates once and prefill chunks of equal size share buffers. A changed
/// shape replaces that slot's tensor. Everything handed out belongs to this object.
/// </summary>
internal sealed class ScratchTensors(IOps ops, DType dtype) : IDisposable
{
    private readonly Dictionary<string, Tensor> _slots = [];

    public Tensor Get(string slot, params int[] dims)
    {
        var shape = new Shape(dims);
        if (_slots.TryGetValue(slot, out var tensor))
        {
            if (tensor.Shape.Equals(shape)) return tensor;
            tensor.Dispose();
        }
        return _slots[slot] = ops.Allocate(shape, dtype);
    }

    public void Dispose()
    {
        foreach (var tensor in _slots.Values) tensor.Dispose();
        _slots.Clear();
    }
}
