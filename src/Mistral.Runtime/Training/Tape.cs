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
/// <para>The tape owns every tensor it allocates (saved activations and activation gradients) and frees each as soon
/// as the backward can no longer read it. A closure can only capture tensors that existed when it was recorded, so a
/// tensor allocated after k closures were recorded is read by closures k and later only: once closure k has replayed,
/// the tensor and its gradient are freed. Modules therefore allocate each activation right before the op that writes
/// it, which makes closure k that op's own backward. A gradient nobody asked for during the replay (<see cref="GradOf"/>)
/// belongs to a leaf, an input no recorded op produced: it stays for the caller until Dispose, as torch keeps .grad of
/// leaves only.</para>
/// </summary>
public sealed class Tape : IDisposable
{
    private readonly List<Action> _backward = [];
    private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Tensor> _gradsRead = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Tensor> _ownedGrads = new(ReferenceEqualityComparer.Instance);
    private readonly List<(Tensor Tensor, int RecordedBefore)> _owned = []; // ascending RecordedBefore
    private readonly Tape? _parent;
    private Tensor? _seed;
    private bool _replayed;

    public Tape(IOps ops) => Ops = ops;

    private Tape(IOps ops, Tape parent) : this(ops) => _parent = parent;

    public IOps Ops { get; }

    /// <summary>Ops recorded so far.</summary>
    public int Count => _backward.Count;

    /// <summary>Bytes of the tensors this tape and its live children own now.</summary>
    public long LiveBytes { get; private set; }

    /// <summary>The most <see cref="LiveBytes"/> ever reached: the tape's share of a step's peak memory.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Bytes allocated over the tape's life, children included: what it would hold at its peak if it freed nothing.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>
    /// A tape for a part of the computation replayed on its own (a recomputed block), whose bytes count in this tape's
    /// <see cref="LiveBytes"/> and <see cref="PeakBytes"/> while it lives. Dispose it before this tape.
    /// </summary>
    public Tape Child() => new(Ops, this);

    /// <summary>A zeroed tensor that lives until the backward can no longer read it (activations saved for backward).</summary>
    public Tensor New(DType dtype, params int[] dims)
    {
        var t = Ops.Allocate(new Shape(dims), dtype);
        Own(t);
        return t;
    }

    /// <summary>Takes ownership of a tensor made elsewhere (inputs the backward reads, such as positions).</summary>
    public void Own(Tensor t)
    {
        _owned.Add((t, Count));
        Track(t.ByteCount);
    }

    /// <summary>A tensor in the activation dtype that lives as long as the backward can read it.</summary>
    public Tensor NewActivation(params int[] dims) => New(Ops.ActivationDType, dims);

    /// <summary>Adds the backward of the op just run; it runs after every op recorded later.</summary>
    public void Record(Action backward)
    {
        if (_replayed) throw new InvalidOperationException("tape: cannot record after Backward");
        _backward.Add(backward);
    }

    /// <summary>
    /// x's accumulated gradient, or null when no gradient reached x (e.g. it only feeds frozen paths). After Backward,
    /// only leaves still have one (see the class summary).
    /// </summary>
    public Tensor? GradOf(Tensor x)
    {
        if (_replayed) _gradsRead.Add(x);
        return _grads.GetValueOrDefault(x);
    }

    /// <summary>
    /// Adds one contribution to x's gradient. <paramref name="write"/> overwrites the tensor it is given with the
    /// contribution (as the IOps backward twins do); the tape hands it x's gradient buffer the first time and a
    /// temporary to add from afterwards.
    /// </summary>
    public void AccumulateGrad(Tensor x, Action<Tensor> write)
    {
        if (!_grads.TryGetValue(x, out var grad))
        {
            grad = NewGrad(x);
            write(grad);
            return;
        }
        using var contribution = Ops.Allocate(x.Shape, Ops.ActivationDType);
        write(contribution);
        Ops.Add(grad, contribution, grad);
    }

    /// <summary>Adds alpha·op(a)·op(b) to x's gradient with one GEMM (beta 0 for the first contribution, 1 after).</summary>
    public void AccumulateGemm(Tensor x, Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha)
    {
        bool first = !_grads.TryGetValue(x, out var grad);
        Ops.Gemm(a, transposeA, b, transposeB, alpha, first ? 0f : 1f, grad ?? NewGrad(x));
    }

    private Tensor NewGrad(Tensor x)
    {
        var grad = Ops.Allocate(x.Shape, Ops.ActivationDType);
        Track(grad.ByteCount);
        _ownedGrads.Add(grad);
        _grads[x] = grad;
        return grad;
    }

    /// <summary>Seeds d(output) and replays every recorded backward in reverse. A tape replays once.</summary>
    public void Backward(Tensor output, Tensor dOutput)
    {
        if (_replayed) throw new InvalidOperationException("tape: Backward already ran");
        _replayed = true;
        _grads[output] = dOutput;
        _seed = dOutput;
        for (int i = _backward.Count - 1; i >= 0; i--)
        {
            _backward[i]();
            _backward[i] = null!; // the closure's captures are no longer needed
            FreeRecordedSince(i);
        }
    }

    /// <summary>Frees what only closures i and later could read: the tensors allocated after i closures were recorded, and their gradients.</summary>
    private void FreeRecordedSince(int i)
    {
        while (_owned.Count > 0 && _owned[^1].RecordedBefore >= i)
        {
            var t = _owned[^1].Tensor;
            _owned.RemoveAt(_owned.Count - 1);
            if (_gradsRead.Remove(t) && _grads.Remove(t, out var grad)) Free(grad);
            if (ReferenceEquals(t, _seed) && _grads.ContainsValue(t)) _ownedGrads.Add(t); // still d(output): goes with it
            else Free(t, owned: true);
        }
    }

    private void Free(Tensor t, bool owned = false)
    {
        if (!owned && !_ownedGrads.Remove(t)) return; // a gradient the tape did not allocate (the caller's seed)
        Track(-t.ByteCount);
        t.Dispose();
    }

    private void Track(long bytes)
    {
        LiveBytes += bytes;
        PeakBytes = Math.Max(PeakBytes, LiveBytes);
        if (bytes > 0) AllocatedBytes += bytes;
        _parent?.Track(bytes);
    }

    public void Dispose()
    {
        foreach (var (t, _) in _owned) Free(t, owned: true);
        foreach (var g in _ownedGrads) Free(g, owned: true);
        _owned.Clear();
        _ownedGrads.Clear();
        _grads.Clear();
        _gradsRead.Clear();
        _backward.Clear();
    }
}
