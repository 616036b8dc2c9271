using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Training;

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
/// Training runs the same code with a <see cref="TrainingPass"/>: every op then writes a fresh activation, records its
/// backward on the pass's tape and applies the LoRA adapters (the block forward exists once).
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
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null) =>
        Forward(tokenIds, positions, batch, cache, logitsFor, observe, train: null);

    /// <summary>
    /// The training forward: the same model over a cache-free batch, every op recorded on <paramref name="train"/>'s
    /// tape. Returns logits [T, V], owned by the tape (as are the uploaded ids and positions RoPE's backward reads).
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, TrainingPass train, ActivationObserver? observe = null)
    {
        int T = batch.TotalTokens;
        Validate(tokens, batch, null, LogitsFor.AllTokens);
        var tokenIds = _ops.Upload(tokens, new Shape(T));                       // I32 [T]
        train.Tape.Own(tokenIds);
        var positions = _ops.Upload(batch.Positions(), new Shape(T));           // I32 [T]
        train.Tape.Own(positions);
        return Forward(tokenIds, positions, batch, null, LogitsFor.AllTokens, observe, train);
    }

    private Tensor Forward(Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache, LogitsFor logitsFor,
        ActivationObserver? observe, TrainingPass? train)
    {
        int T = batch.TotalTokens, D = Config.Dim;
        if (tokenIds.ElementCount != T || positions.ElementCount != T)
            throw new ArgumentException($"forward: {tokenIds.ElementCount} token ids and {positions.ElementCount} positions for a batch of {T}");
        var h = Buffer(train, "h", T, D);                                        // [T, D] residual stream
        _ops.EmbeddingForward(tokenIds, _weights.TokEmbeddings, h);
        observe?.Invoke("embed", h);

        for (int layer = 0; layer < Config.NLayers; layer++)
            h = Block(layer, h, positions, batch, cache?.Layer(layer), observe, train);
        cache?.Advance(batch);

        var last = logitsFor == LogitsFor.LastTokens ? LastTokens(h, batch) : h; // [B or T, D]
        int rows = last.Shape[0];
        var normOut = Buffer(train, "norm_out", rows, D);
        Norm(last, _weights.Norm, NativeTensorNames.Norm, normOut, train);
        observe?.Invoke("norm_out", normOut);
        var logits = Buffer(train, "logits", rows, Config.VocabSize);
        Linear(normOut, _weights.Output, "output", logits, train);
        return logits;
    }

    /// <summary>mistral-src TransformerBlock.forward. Returns the new residual stream h [T, D] (h itself, updated in place, unless training).</summary>
    private Tensor Block(int layer, Tensor h, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, ActivationObserver? observe, TrainingPass? train)
    {
        var w = _weights.Layers[layer];
        string name = $"layers.{layer}.";
        int T = batch.TotalTokens, D = Config.Dim;

        // h = h + wo(attention(attention_norm(h)))
        var x = Buffer(train, "x", T, D);       // normed input of a sub-block [T, D]
        var proj = Buffer(train, "proj", T, D); // sub-block output before the residual add [T, D]
        Norm(h, w.AttentionNorm, NativeTensorNames.AttentionNorm(layer), x, train);
        observe?.Invoke(name + "attention_norm_out", x);
        Attention(layer, x, positions, batch, cache, proj, observe, train);
        observe?.Invoke(name + "attention_out", proj);
        h = Residual(h, proj, train);

        // h = h + w2(silu(w1(f)) * w3(f)), f = ffn_norm(h)
        x = Buffer(train, "x", T, D);
        proj = Buffer(train, "proj", T, D);
        Norm(h, w.FfnNorm, NativeTensorNames.FfnNorm(layer), x, train);
        observe?.Invoke(name + "ffn_norm_out", x);
        FeedForward(layer, x, proj, train);
        observe?.Invoke(name + "ffn_out", proj);
        h = Residual(h, proj, train);
        observe?.Invoke(name + "out", h);
        return h;
    }

    /// <summary>mistral-src Attention.forward: x [T, D] → y [T, D].</summary>
    private void Attention(int layer, Tensor x, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, Tensor y, ActivationObserver? observe, TrainingPass? train)
    {
        var w = _weights.Layers[layer];
        string name = $"layers.{layer}.";
        int T = batch.TotalTokens, Dh = Config.HeadDim;
        var q = Buffer(train, "q", T, Config.NHeads * Dh);     // [T, H·Dh]
        var k = Buffer(train, "k", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        var v = Buffer(train, "v", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        var att = Buffer(train, "att", T, Config.NHeads * Dh); // [T, H·Dh]

        Linear(x, w.Wq, name + "attention.wq", q, train);
        Linear(x, w.Wk, name + "attention.wk", k, train);
        Linear(x, w.Wv, name + "attention.wv", v, train);
        Rope(q, positions, train);
        Rope(k, positions, train);
        observe?.Invoke(name + "q_rope", q);
        observe?.Invoke(name + "k_rope", k);
        observe?.Invoke(name + "v", v);

        // The chunk attends to the cached positions before it plus itself; only then does it enter the cache.
        if (train is null) _ops.AttentionForward(q, k, v, batch, _attention, cache, att, null);
        else train.Attention(q, k, v, batch, _attention, att);
        if (cache is not null) _ops.KvCacheAppend(k, v, batch, cache);
        Linear(att, w.Wo, name + "attention.wo", y, train);
    }

    /// <summary>mistral-src FeedForward.forward: w2(silu(w1(x)) * w3(x)), x [T, D] → y [T, D].</summary>
    private void FeedForward(int layer, Tensor x, Tensor y, TrainingPass? train)
    {
        var w = _weights.Layers[layer];
        string name = $"layers.{layer}.feed_forward.";
        int T = x.Shape[0], F = Config.HiddenDim;
        var gate = Buffer(train, "gate", T, F);     // [T, F]
        var up = Buffer(train, "up", T, F);         // [T, F]
        var hidden = Buffer(train, "hidden", T, F); // [T, F]
        Linear(x, w.W1, name + "w1", gate, train);
        Linear(x, w.W3, name + "w3", up, train);
        if (train is null) _ops.SwiGluForward(gate, up, hidden);
        else train.SwiGlu(gate, up, hidden);
        Linear(hidden, w.W2, name + "w2", y, train);
    }

    /// <summary>
    /// y = x · Wᵀ for W [out, in] as checkpoints store it: every projection of the model goes through here. While
    /// training, the LoRA adapter of <paramref name="module"/> (e.g. "layers.0.attention.wq") is added when there is one.
    /// </summary>
    private void Linear(Tensor x, Tensor weight, string module, Tensor y, TrainingPass? train)
    {
        if (train is null) _ops.Gemm(x, false, weight, true, 1f, 0f, y);
        else train.Linear(x, weight, module, y);
    }

    private void Norm(Tensor x, Tensor weight, string weightName, Tensor y, TrainingPass? train)
    {
        if (train is null) _ops.RmsNormForward(x, weight, Config.NormEps, y, null);
        else train.RmsNorm(x, weight, weightName, Config.NormEps, y);
    }

    private void Rope(Tensor x, Tensor positions, TrainingPass? train)
    {
        if (train is null) _ops.RopeForward(x, positions, Config.HeadDim, Config.RopeTheta, x);
        else train.RopeInPlace(x, positions, Config.HeadDim, Config.RopeTheta);
    }

    /// <summary>h + proj: in place for inference; a fresh tensor while training (RMSNorm's backward reads the old h).</summary>
    private Tensor Residual(Tensor h, Tensor proj, TrainingPass? train)
    {
        if (train is not null) return train.Add(h, proj);
        _ops.Add(h, proj, h);
        return h;
    }

    /// <summary>A reused scratch buffer for inference; a fresh tape-owned activation while training.</summary>
    private Tensor Buffer(TrainingPass? train, string slot, int rows, int cols) =>
        train?.Activation(rows, cols) ?? _scratch.Get(slot, rows, cols);

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
