using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Bench;

/// <summary>
/// `bench kernels`: every kernel family of a forward pass at a model's shapes, through the same <see cref="IOps"/> on a device (CUDA, emulated)
/// calls the transformer makes, each timed by <see cref="KernelTiming"/> (L2 flushed and operands rotated, so HBM
/// figures are not cache hits; decode-shaped calls replayed from a graph, so they time the kernel, not the launch path)
/// and turned into GB/s (memory-bound) or TFLOP/s (GEMMs, prefill attention) with the share of the device's datasheet
/// peak. Shapes: a decode step (T = 1, the cache full to the window) and a prefill of
/// <see cref="KernelBenchOptions.PrefillTokens"/>; attention prefill at <see cref="KernelBenchOptions.AttentionTokens"/>.
/// Legend: T = tokens, D = dim, H/Hkv = heads, Dh = head dim, F = hidden dim, V = vocab, W = window.
/// </summary>
public sealed class KernelBench(IOps ops, IDeviceOps device, MistralConfig config, KernelBenchOptions options)
{
    private readonly int _elt = ops.ActivationDType.SizeOf();
    private KernelTiming? _timing;

    private KernelTiming Timing => _timing ?? throw new InvalidOperationException("kernel bench: rows are timed inside Run");

    /// <param name="onFigure">each row as it is measured.</param>
    /// <param name="note">told why a decode-shaped row could not be captured into a graph (it then ran eagerly).</param>
    public IReadOnlyList<KernelFigure> Run(Action<KernelFigure>? onFigure = null, Action<string>? note = null)
    {
        using var timing = _timing = new KernelTiming(device.Device, options);
        var figures = new List<KernelFigure>();
        void Add(KernelFigure f)
        {
            if (timing.CaptureError is { } error)
                note?.Invoke($"{f.Kernel} ({f.Shape}) not captured, timed as launches: {error}");
            figures.Add(f);
            onFigure?.Invoke(f);
        }
        foreach (int t in new[] { 1, options.PrefillTokens })
        {
            Add(RmsNorm(t));
            Add(Rope(t));
            Add(SwiGlu(t));
            Add(Residual(t));
            Add(Linear("gemm wq", t, config.NHeads * config.HeadDim, config.Dim));
            Add(Linear("gemm w1 (w3)", t, config.HiddenDim, config.Dim));
            Add(Linear("gemm w2", t, config.Dim, config.HiddenDim));
            Add(Linear("gemm output", t, config.VocabSize, config.Dim));
        }
        Add(Embedding(options.PrefillTokens));
        Add(Argmax());
        Add(KvAppend(options.PrefillTokens));
        Add(AttentionDecode());
        Add(AttentionPrefill(options.AttentionTokens));
        return figures;
    }

    /// <summary>
    /// Times <paramref name="makeCall"/>'s call on <see cref="KernelTiming.CopiesFor"/> copies of its operands (each
    /// copy allocated into the list it is given, disposed after); <paramref name="decode"/> rows replay from a graph.
    /// </summary>
    private KernelFigure Time(string kernel, string shape, double bytes, double flops, bool decode, Func<int, List<IDisposable>, Action> makeCall)
    {
        var owned = new List<IDisposable>();
        try
        {
            var calls = Enumerable.Range(0, Timing.CopiesFor(bytes)).Select(copy => makeCall(copy, owned)).ToList();
            var (ms, how) = Timing.Time(calls, decode);
            return new KernelFigure(kernel, shape, ms, bytes, flops, how);
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    private Tensor Random(List<IDisposable> owned, params int[] dims)
    {
        var t = ops.Allocate(new Shape(dims), ops.ActivationDType);
        owned.Add(t);
        device.FillUniform(t, (ulong)(dims.Sum() + owned.Count), -1f, 1f);
        return t;
    }

    private T Own<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    private KernelFigure RmsNorm(int t) =>
        Time("rmsnorm_forward", $"T {t}, D {config.Dim}", (2.0 * t * config.Dim + config.Dim) * _elt, 0, t == 1, (_, owned) =>
        {
            var (x, w, y) = (Random(owned, t, config.Dim), Random(owned, config.Dim), Random(owned, t, config.Dim));
            return () => ops.RmsNormForward(x, w, config.NormEps, y, null);
        });

    private KernelFigure Rope(int t)
    {
        int width = config.NHeads * config.HeadDim;
        return Time("rope_forward (q)", $"T {t}, H {config.NHeads}, Dh {config.HeadDim}", 2.0 * t * width * _elt, 0, t == 1, (_, owned) =>
        {
            var q = Random(owned, t, width);
            var positions = Own(owned, ops.Upload(Enumerable.Range(0, t).ToArray(), new Shape(t)));
            return () => ops.RopeForward(q, positions, config.HeadDim, config.RopeTheta, q);
        });
    }

    private KernelFigure SwiGlu(int t) =>
        Time("swiglu_forward", $"T {t}, F {config.HiddenDim}", 3.0 * t * config.HiddenDim * _elt, 0, t == 1, (_, owned) =>
        {
            var (gate, up, y) = (Random(owned, t, config.HiddenDim), Random(owned, t, config.HiddenDim), Random(owned, t, config.HiddenDim));
            return () => ops.SwiGluForward(gate, up, y);
        });

    private KernelFigure Residual(int t) =>
        Time("add (residual)", $"T {t}, D {config.Dim}", 3.0 * t * config.Dim * _elt, 0, t == 1, (_, owned) =>
        {
            var (h, x) = (Random(owned, t, config.Dim), Random(owned, t, config.Dim));
            return () => ops.Add(h, x, h);
        });

    /// <summary>y [T, out] = x [T, in] · Wᵀ, W [out, in]: what every projection runs.</summary>
    private KernelFigure Linear(string name, int t, int outFeatures, int inFeatures)
    {
        double bytes = ((double)outFeatures * inFeatures + (double)t * (inFeatures + outFeatures)) * _elt;
        return Time(name, $"T {t} × {inFeatures} → {outFeatures}", bytes, 2.0 * t * inFeatures * outFeatures, t == 1, (_, owned) =>
        {
            var (x, w, y) = (Random(owned, t, inFeatures), Random(owned, outFeatures, inFeatures), Random(owned, t, outFeatures));
            return () => ops.Gemm(x, false, w, true, 1f, 0f, y);
        });
    }

    /// <summary>One table shared by every copy; each copy gathers other rows (n·7919 mod V is one-to-one while n &lt; V).</summary>
    private KernelFigure Embedding(int t)
    {
        using var table = ops.Allocate(new Shape(config.VocabSize, config.Dim), ops.ActivationDType);
        device.FillUniform(table, 1, -1f, 1f);
        return Time("embedding_forward", $"T {t}, D {config.Dim}", 2.0 * t * config.Dim * _elt, 0, false, (copy, owned) =>
        {
            int[] rows = Enumerable.Range(copy * t, t).Select(n => (int)((long)n * 7919 % config.VocabSize)).ToArray();
            var ids = Own(owned, ops.Upload(rows, new Shape(t)));
            var y = Random(owned, t, config.Dim);
            return () => ops.EmbeddingForward(ids, table, y);
        });
    }

    private KernelFigure Argmax() =>
        Time("argmax", $"1 × V {config.VocabSize}", (double)config.VocabSize * _elt, 0, true, (_, owned) =>
        {
            var logits = Random(owned, 1, config.VocabSize);
            var ids = Own(owned, ops.Allocate(new Shape(1), DType.I32));
            return () => ops.Argmax(logits, ids);
        });

    private KernelFigure KvAppend(int t)
    {
        int width = config.NKvHeads * config.HeadDim, slots = Math.Min(config.Window, Math.Max(t, 1));
        var batch = AttentionBatch.FromLengths([t]);
        double moved = 4.0 * Math.Min(t, slots) * width * _elt;
        return Time("kv_cache_append", $"T {t}, S {slots}, Hkv·Dh {width}", moved, 0, t == 1, (_, owned) =>
        {
            var (k, v) = (Random(owned, t, width), Random(owned, t, width));
            var cache = new KvCacheLayer(Random(owned, 1, slots, width), Random(owned, 1, slots, width), slots);
            return () => ops.KvCacheAppend(k, v, batch, cache);
        });
    }

    /// <summary>One decode step at position W - 1 of a full cache: reads the whole window of K and V once.</summary>
    private KernelFigure AttentionDecode()
    {
        var attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        int slots = Math.Min(config.Window, options.AttentionTokens), width = config.NKvHeads * config.HeadDim;
        var batch = new AttentionBatch([0], [1], [slots - 1]);
        double keys = Math.Min(slots, config.Window);
        return Time("attention decode", $"pos {slots - 1}, W {config.Window}, Dh {config.HeadDim}", 2.0 * keys * width * _elt,
            4.0 * keys * config.NHeads * config.HeadDim, true, (_, owned) =>
            {
                var (q, k, v) = (Random(owned, 1, config.NHeads * config.HeadDim), Random(owned, 1, width), Random(owned, 1, width));
                var cache = new KvCacheLayer(Random(owned, 1, slots, width), Random(owned, 1, slots, width), slots);
                var y = Random(owned, 1, config.NHeads * config.HeadDim);
                return () => ops.AttentionForward(q, k, v, batch, attention, cache, y, null);
            });
    }

    /// <summary>Prefill attention of one T-token sequence; flops over the (query, key) pairs the window lets through.</summary>
    private KernelFigure AttentionPrefill(int t)
    {
        var attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        var batch = AttentionBatch.FromLengths([t]);
        double pairs = 0;
        for (int i = 0; i < t; i++) pairs += Math.Min(i + 1L, config.Window);
        double bytes = ((double)t * (2 * config.NHeads + 2 * config.NKvHeads) * config.HeadDim) * _elt;
        return Time("attention prefill", $"T {t}, W {config.Window}, Dh {config.HeadDim}", bytes, 4.0 * pairs * config.HeadDim * config.NHeads,
            false, (_, owned) =>
            {
                var (q, k, v) = (Random(owned, t, config.NHeads * config.HeadDim), Random(owned, t, config.NKvHeads * config.HeadDim),
                    Random(owned, t, config.NKvHeads * config.HeadDim));
                var y = Random(owned, t, config.NHeads * config.HeadDim);
                return () => ops.AttentionForward(q, k, v, batch, attention, null, y, null);
            });
    }
}
