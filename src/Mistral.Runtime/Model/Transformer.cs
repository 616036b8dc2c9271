using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;

namespace Mistral.Runtime.Model;

/// <summary>
/// The Mistral forward pass, written once against <see cref="IOps"/> and read like mistral-src model.py:
/// <code>
/// h = tok_embeddings(tokens)
/// for each layer:  h = h + wo(attention(attention_norm(h)))
///                  h = h + w2(silu(w1(f)) * w3(f)),  f = ffn_norm(h)
/// logits = output(norm(h))
/// </code>
/// One call runs a packed ragged batch of sequences (<see cref="AttentionBatch"/>), with or without a rolling KV cache.
/// Activations live in scratch buffers reused across calls; the returned logits are one of them.
/// Legend: T = packed tokens, B = sequences, D = dim, H = heads, Hkv = kv heads, Dh = head dim, F = hidden dim, V = vocab.
/// </summary>
public sealed class Transformer : IDisposable
{
    private readonly IOps _ops;
    private readonly ModelWeights _weights;
    private readonly AttentionConfig _attention;
    private readonly ScratchTensors _scratch;

    /// <param name="weights">resident on <paramref name="ops"/>; not owned (the caller disposes them).</param>
    public Transformer(IOps ops, ModelConfig config, ModelWeights weights)
    {
        _ops = ops;
        Config = config;
        _weights = weights;
        _attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        _scratch = new ScratchTensors(ops, ops.ActivationDType);
    }

    public ModelConfig Config { get; }
    public IOps Ops => _ops;

    /// <summary>
    /// Runs tokens [T] (sequence b at batch.TokenOffsets[b], positions from batch.StartPositions[b]) through the model.
    /// With a cache, each sequence reads its row's earlier positions and this step's keys and values are appended;
    /// build the batch with <see cref="RollingKvCache.NextBatch"/>. Returns logits [T, V] or [B, V] (row b = the last
    /// token of sequence b), valid until the next call: download it first.
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null)
    {
        int T = batch.TotalTokens;
        Validate(tokens, batch, cache, logitsFor);
        using var tokenIds = _ops.Upload(tokens, new Shape(T));                 // I32 [T]
        using var positions = _ops.Upload(batch.Positions(), new Shape(T));     // I32 [T]
        return Forward(tokenIds, positions, batch, cache, logitsFor, observe);
    }

    /// <summary>
    /// The same forward with the token ids and positions already on the device (I32 [T] each), so that a step can be
    /// captured and replayed with its inputs rewritten in place (<see cref="Generation.DecodeGraph"/>). The ids are
    /// not range-checked here; positions must be <see cref="AttentionBatch.Positions"/> of <paramref name="batch"/>.
    /// </summary>
    public Tensor Forward(Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null)
    {
        int T = batch.TotalTokens, D = Config.Dim;
        if (tokenIds.ElementCount != T || positions.ElementCount != T)
            throw new ArgumentException($"forward: {tokenIds.ElementCount} token ids and {positions.ElementCount} positions for a batch of {T}");
        var h = _scratch.Get("h", T, D);                                         // [T, D] residual stream
        _ops.EmbeddingForward(tokenIds, _weights.TokEmbeddings, h);
        observe?.Invoke("embed", h);

        for (int layer = 0; layer < Config.NLayers; layer++)
            Block(layer, h, positions, batch, cache?.Layer(layer), observe);
        cache?.Advance(batch);

        var last = logitsFor == LogitsFor.LastTokens ? LastTokens(h, batch) : h; // [B or T, D]
        int rows = last.Shape[0];
        var normOut = _scratch.Get("norm_out", rows, D);
        _ops.RmsNormForward(last, _weights.Norm, Config.NormEps, normOut, null);
        observe?.Invoke("norm_out", normOut);
        var logits = _scratch.Get("logits", rows, Config.VocabSize);
        Linear(normOut, _weights.Output, logits);
        return logits;
    }

    /// <summary>mistral-src TransformerBlock.forward. h [T, D] is updated in place.</summary>
    private void Block(int layer, Tensor h, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, ActivationObserver? observe)
    {
        var w = _weights.Layers[layer];
        string name = $"layers.{layer}.";
        int T = batch.TotalTokens, D = Config.Dim;
        var x = _scratch.Get("x", T, D);       // normed input of a sub-block [T, D]
        var proj = _scratch.Get("proj", T, D); // sub-block output before the residual add [T, D]

        // h = h + wo(attention(attention_norm(h)))
        _ops.RmsNormForward(h, w.AttentionNorm, Config.NormEps, x, null);
        observe?.Invoke(name + "attention_norm_out", x);
        Attention(layer, x, positions, batch, cache, proj, observe);
        observe?.Invoke(name + "attention_out", proj);
        _ops.Add(h, proj, h);

        // h = h + w2(silu(w1(f)) * w3(f)), f = ffn_norm(h)
        _ops.RmsNormForward(h, w.FfnNorm, Config.NormEps, x, null);
        observe?.Invoke(name + "ffn_norm_out", x);
        FeedForward(layer, x, proj);
        observe?.Invoke(name + "ffn_out", proj);
        _ops.Add(h, proj, h);
        observe?.Invoke(name + "out", h);
    }

    /// <summary>mistral-src Attention.forward: x [T, D] → y [T, D].</summary>
    private void Attention(int layer, Tensor x, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, Tensor y, ActivationObserver? observe)
    {
        var w = _weights.Layers[layer];
        string name = $"layers.{layer}.";
        int T = batch.TotalTokens, Dh = Config.HeadDim;
        var q = _scratch.Get("q", T, Config.NHeads * Dh);     // [T, H·Dh]
        var k = _scratch.Get("k", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        var v = _scratch.Get("v", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        var att = _scratch.Get("att", T, Config.NHeads * Dh); // [T, H·Dh]

        Linear(x, w.Wq, q);
        Linear(x, w.Wk, k);
        Linear(x, w.Wv, v);
        _ops.RopeForward(q, positions, Dh, Config.RopeTheta, q);
        _ops.RopeForward(k, positions, Dh, Config.RopeTheta, k);
        observe?.Invoke(name + "q_rope", q);
        observe?.Invoke(name + "k_rope", k);
        observe?.Invoke(name + "v", v);

        // The chunk attends to the cached positions before it plus itself; only then does it enter the cache.
        _ops.AttentionForward(q, k, v, batch, _attention, cache, att, null);
        if (cache is not null) _ops.KvCacheAppend(k, v, batch, cache);
        Linear(att, w.Wo, y);
    }

    /// <summary>mistral-src FeedForward.forward: w2(silu(w1(x)) * w3(x)), x [T, D] → y [T, D].</summary>
    private void FeedForward(int layer, Tensor x, Tensor y)
    {
        var w = _weights.Layers[layer];
        int T = x.Shape[0], F = Config.HiddenDim;
        var gate = _scratch.Get("gate", T, F);     // [T, F]
        var up = _scratch.Get("up", T, F);         // [T, F]
        var hidden = _scratch.Get("hidden", T, F); // [T, F]
        Linear(x, w.W1, gate);
        Linear(x, w.W3, up);
        _ops.SwiGluForward(gate, up, hidden);
        Linear(hidden, w.W2, y);
    }

    /// <summary>y = x · Wᵀ for W [out, in] as checkpoints store it: every projection of the model goes through here.</summary>
    private void Linear(Tensor x, Tensor weight, Tensor y) => _ops.Gemm(x, false, weight, true, 1f, 0f, y);

    /// <summary>Gathers the last row of each sequence, h [T, D] → [B, D], with the embedding gather (rows of h as the table).</summary>
    private Tensor LastTokens(Tensor h, AttentionBatch batch)
    {
        var lastIndex = new int[batch.SequenceCount];
        for (int b = 0; b < lastIndex.Length; b++) lastIndex[b] = batch.TokenOffsets[b] + batch.Lengths[b] - 1;
        using var index = _ops.Upload(lastIndex, new Shape(lastIndex.Length));
        var last = _scratch.Get("last", lastIndex.Length, Config.Dim);
        _ops.EmbeddingForward(index, h, last);
        return last;
    }

    private void Validate(ReadOnlySpan<int> tokens, AttentionBatch batch, RollingKvCache? cache, LogitsFor logitsFor)
    {
        if (batch.TotalTokens == 0) throw new ArgumentException("forward: the batch holds no tokens");
        if (tokens.Length != batch.TotalTokens) throw new ArgumentException($"forward: {tokens.Length} tokens for a batch of {batch.TotalTokens}");
        for (int t = 0; t < tokens.Length; t++)
            if ((uint)tokens[t] >= (uint)Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"forward: token {t} has id {tokens[t]}, outside the vocabulary [0, {Config.VocabSize})");
        if (logitsFor == LogitsFor.LastTokens)
            for (int b = 0; b < batch.SequenceCount; b++)
                if (batch.Lengths[b] == 0) throw new ArgumentException($"forward: sequence {b} is empty, so it has no last token; leave it out of the batch");
        if (cache is not null && cache.LayerCount != Config.NLayers)
            throw new ArgumentException($"forward: the cache has {cache.LayerCount} layers, the model {Config.NLayers}");
    }

    public void Dispose() => _scratch.Dispose();
}
