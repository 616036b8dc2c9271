using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Training;

/// <summary>
/// A hand-built autograd tape. During the forward pass every op that needs a backward records a closure holding what
/// that backward needs (its saved inputs and outputs); <see cref="Backward"/> replays the closures in reverse order.
/// <para>The one accumulation rule: an activation's gradient is born from its first contribution, written into a fresh
/// buffer, and every later contribution is added to it (<see cref="AccumulateGrad"/>, <see cref="AccumulateGemm"/>), so
/// the order of consumers never matters for correctness. Parameter gradients are always "+=" into buffers the caller
/// owns and zeroes (they also sum micro-batches).</para>
/// The tape owns every tensor it allocates (saved activations and activation gradients) and frees them on Dispose.
/// </summary>
public sealed class Tape(IOps ops) : IDisposable
{
    private readonly List<Action> _backward = [];
    private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);
    private readonly List<Tensor> _owned = [];
    private bool _replayed;

    public IOps Ops { get; } = ops;

    /// <summary>Ops recorded so far.</summary>
    public int Count => _backward.Count;

    /// <summary>A zeroed tensor that lives as long as the tape (activations saved for backward).</summary>
    public Tensor New(DType dtype, params int[] dims)
    {
        var t = Ops.Allocate(new Shape(dims), dtype);
        _owned.Add(t);
        return t;
    }

    /// <summary>Takes ownership of a tensor made elsewhere (inputs the backward reads, such as positions).</summary>
    public void Own(Tensor t) => _owned.Add(t);

    /// <summary>A tensor in the activation dtype that lives as long as the tape.</summary>
    public Tensor NewActivation(params int[] dims) => New(Ops.ActivationDType, dims);

    /// <summary>Adds the backward of the op just run; it runs after every op recorded later.</summary>
    public void Record(Action backward)
    {
        if (_replayed) throw new InvalidOperationException("tape: cannot record after Backward");
        _backward.Add(backward);
    }

    /// <summary>x's accumulated gradient, or null when no gradient reached x (e.g. it only feeds frozen paths).</summary>
    public Tensor? GradOf(Tensor x) => _grads.GetValueOrDefault(x);

    /// <summary>
    /// Adds one contribution to x's gradient. <paramref name="write"/> overwrites the tensor it is given with the
    /// contribution (as the IOps backward twins do); the tape hands it x's gradient buffer the first time and a
    /// temporary to add from afterwards.
    /// </summary>
    public void AccumulateGrad(Tensor x, Action<Tensor> write)
    {
        if (!_grads.TryGetValue(x, out var grad))
        {
            grad = New(Ops.ActivationDType, [.. x.Shape.Dims]);
            write(grad);
            _grads[x] = grad;
            return;
        }
        using var contribution = Ops.Allocate(x.Shape, Ops.ActivationDType);
        write(contribution);
        Ops.Add(grad, contribution, grad);
    }

    /// <summary>Adds alpha·op(a)·op(b) to x's gradient with one GEMM (beta 0 for the first contribution, 1 after).</summary>
    public void AccumulateGemm(Tensor x, Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha)
    {
        if (_grads.TryGetValue(x, out var grad))
        {
            Ops.Gemm(a, transposeA, b, transposeB, alpha, 1f, grad);
            return;
        }
        grad = New(Ops.ActivationDType, [.. x.Shape.Dims]);
        Ops.Gemm(a, transposeA, b, transposeB, alpha, 0f, grad);
        _grads[x] = grad;
    }

    /// <summary>Seeds d(output) and replays every recorded backward in reverse. A tape replays once.</summary>
    public void Backward(Tensor output, Tensor dOutput)
    {
        if (_replayed) throw new InvalidOperationException("tape: Backward already ran");
        _replayed = true;
        _grads[output] = dOutput;
        for (int i = _backward.Count - 1; i >= 0; i--)
            _backward[i]();
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
        _grads.Clear();
        _backward.Clear();
    }
}
