using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Bench;

/// <summary>
/// `bench kernels`: every kernel family of a forward pass at a model's shapes, through the same <see cref="IOps"/> on a device (CUDA, emulated)
/// calls the transformer makes (so launcher overhead is in the figure, as it is in a real step), each timed by
/// <see cref="DeviceTimer"/> and turned into GB/s (memory-bound) or TFLOP/s (GEMMs, prefill attention) with the share
/// of the device's datasheet peak. Shapes: a decode step (T = 1, the cache full to the window) and a prefill of
/// <see cref="KernelBenchOptions.PrefillTokens"/>; attention prefill at <see cref="KernelBenchOptions.AttentionTokens"/>.
/// Legend: T = tokens, D = dim, H/Hkv = heads, Dh = head dim, F = hidden dim, V = vocab, W = window.
/// </summary>
public sealed class KernelBench(IOps ops, IDeviceOps device, MistralConfig config, KernelBenchOptions options)
{
    private readonly int _elt = ops.ActivationDType.SizeOf();

    public IReadOnlyList<KernelFigure> Run(Action<KernelFigure>? onFigure = null)
    {
        var figures = new List<KernelFigure>();
        void Add(KernelFigure f)
        {
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

    private KernelFigure Time(string kernel, string shape, double bytes, double flops, Action body) =>
        new(kernel, shape, DeviceTimer.MedianMs(device.Device, body, options.Warmup, options.Repetitions, options.Inner), bytes, flops);

    private Tensor Random(params int[] dims)
    {
        var t = ops.Allocate(new Shape(dims), ops.ActivationDType);
        device.FillUniform(t, (ulong)dims.Sum(), -1f, 1f);
        return t;
    }

    private KernelFigure RmsNorm(int t)
    {
        using var x = Random(t, config.Dim);
        using var w = Random(config.Dim);
        using var y = Random(t, config.Dim);
        return Time("rmsnorm_forward", $"T {t}, D {config.Dim}", (2.0 * t * config.Dim + config.Dim) * _elt, 0,
            () => ops.RmsNormForward(x, w, config.NormEps, y, null));
    }

    private KernelFigure Rope(int t)
    {
        int width = config.NHeads * config.HeadDim;
        using var q = Random(t, width);
        using var positions = ops.Upload(Enumerable.Range(0, t).ToArray(), new Shape(t));
        return Time("rope_forward (q)", $"T {t}, H {config.NHeads}, Dh {config.HeadDim}", 2.0 * t * width * _elt, 0,
            () => ops.RopeForward(q, positions, config.HeadDim, config.RopeTheta, q));
    }

    private KernelFigure SwiGlu(int t)
    {
        using var gate = Random(t, config.HiddenDim);
        using var up = Random(t, config.HiddenDim);
        using var y = Random(t, config.HiddenDim);
        return Time("swiglu_forward", $"T {t}, F {config.HiddenDim}", 3.0 * t * config.HiddenDim * _elt, 0,
            () => ops.SwiGluForward(gate, up, y));
    }

    private KernelFigure Residual(int t)
    {
        using var h = Random(t, config.Dim);
        using var x = Random(t, config.Dim);
        return Time("add (residual)", $"T {t}, D {config.Dim}", 3.0 * t * config.Dim * _elt, 0, () => ops.Add(h, x, h));
    }

    /// <summary>y [T, out] = x [T, in] · Wᵀ, W [out, in]: what every projection runs.</summary>
    private KernelFigure Linear(string name, int t, int outFeatures, int inFeatures)
    {
        using var x = Random(t, inFeatures);
        using var w = Random(outFeatures, inFeatures);
        using var y = Random(t, outFeatures);
        double bytes = ((double)outFeatures * inFeatures + (double)t * (inFeatures + outFeatures)) * _elt;
        return Time(name, $"T {t} × {inFeatures} → {outFeatures}", bytes, 2.0 * t * inFeatures * outFeatures,
            () => ops.Gemm(x, false, w, true, 1f, 0f, y));
    }

    private KernelFigure Embedding(int t)
    {
        using var table = Random(config.VocabSize, config.Dim);
        using var ids = ops.Upload(Enumerable.Range(0, t).Select(i => i * 7919 % config.VocabSize).ToArray(), new Shape(t));
        using var y = Random(t, config.Dim);
        return Time("embedding_forward", $"T {t}, D {config.Dim}", 2.0 * t * config.Dim * _elt, 0, () => ops.EmbeddingForward(ids, table, y));
    }

    private KernelFigure Argmax()
    {
        using var logits = Random(1, config.VocabSize);
        using var ids = ops.Allocate(new Shape(1), DType.I32);
        return Time("argmax", $"1 × V {config.VocabSize}", (double)config.VocabSize * _elt, 0, () => ops.Argmax(logits, ids));
    }

    private KernelFigure KvAppend(int t)
    {
        int width = config.NKvHeads * config.HeadDim, slots = Math.Min(config.Window, Math.Max(t, 1));
        using var k = Random(t, width);
        using var v = Random(t, width);
        using var ck = Random(1, slots, width);
        using var cv = Random(1, slots, width);
        var batch = AttentionBatch.FromLengths([t]);
        var cache = new KvCacheLayer(ck, cv, slots);
        double moved = 4.0 * Math.Min(t, slots) * width * _elt;
        return Time("kv_cache_append", $"T {t}, S {slots}, Hkv·Dh {width}", moved, 0, () => ops.KvCacheAppend(k, v, batch, cache));
    }

    /// <summary>One decode step at position W - 1 of a full cache: reads the whole window of K and V once.</summary>
    private KernelFigure AttentionDecode()
    {
        var attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        int slots = Math.Min(config.Window, options.AttentionTokens), width = config.NKvHeads * config.HeadDim;
        using var q = Random(1, config.NHeads * config.HeadDim);
        using var k = Random(1, width);
        using var v = Random(1, width);
        using var ck = Random(1, slots, width);
        using var cv = Random(1, slots, width);
        using var y = Random(1, config.NHeads * config.HeadDim);
        var batch = new AttentionBatch([0], [1], [slots - 1]);
        var cache = new KvCacheLayer(ck, cv, slots);
        double keys = Math.Min(slots, config.Window);
        return Time("attention decode", $"pos {slots - 1}, W {config.Window}, Dh {config.HeadDim}", 2.0 * keys * width * _elt,
            4.0 * keys * config.NHeads * config.HeadDim, () => ops.AttentionForward(q, k, v, batch, attention, cache, y, null));
    }

    /// <summary>Prefill attention of one T-token sequence; flops over the (query, key) pairs the window lets through.</summary>
    private KernelFigure AttentionPrefill(int t)
    {
        var attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        using var q = Random(t, config.NHeads * config.HeadDim);
        using var k = Random(t, config.NKvHeads * config.HeadDim);
        using var v = Random(t, config.NKvHeads * config.HeadDim);
        using var y = Random(t, config.NHeads * config.HeadDim);
        var batch = AttentionBatch.FromLengths([t]);
        double pairs = 0;
        for (int i = 0; i < t; i++) pairs += Math.Min(i + 1L, config.Window);
        double bytes = ((double)t * (2 * config.NHeads + 2 * config.NKvHeads) * config.HeadDim) * _elt;
        return Time("attention prefill", $"T {t}, W {config.Window}, Dh {config.HeadDim}", bytes, 4.0 * pairs * config.HeadDim * config.NHeads,
            () => ops.AttentionForward(q, k, v, batch, attention, null, y, null));
    }
}

/// <summary>Sizes and repetitions of <see cref="KernelBench"/>; <see cref="For"/> picks them for a preset.</summary>
public sealed record KernelBenchOptions(int PrefillTokens, int AttentionTokens, int Warmup, int Repetitions, int Inner)
{
    /// <summary>7B: the figures (prefill 2048, attention 8k); the tiny shape: a smoke test the emulator finishes in seconds.</summary>
    public static KernelBenchOptions For(MistralConfig config, bool emulated) =>
        emulated || config.Dim < 1024
            ? new KernelBenchOptions(PrefillTokens: 32, AttentionTokens: 40, Warmup: 0, Repetitions: 1, Inner: 1)
            : new KernelBenchOptions(PrefillTokens: 2048, AttentionTokens: 8192, Warmup: 3, Repetitions: 10, Inner: 5);
}
