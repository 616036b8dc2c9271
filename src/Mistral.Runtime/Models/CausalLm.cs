using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Modules;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;

namespace Mistral.Runtime.Models;

/// <summary>
/// What every family's forward shares: input checks, uploading ids and positions, the scratch buffers of inference
/// (one <see cref="ForwardPass"/> per call: scratch, or tape-owned activations while training) and the gather of each
/// sequence's last token. A family implements <see cref="Run"/>, its forward composed of modules.
/// </summary>
public abstract class CausalLm : ICausalLm
{
    private readonly ScratchTensors _scratch;

    protected CausalLm(IOps ops, IModelConfig config)
    {
        Ops = ops;
        Config = config;
        _scratch = new ScratchTensors(ops, ops.ActivationDType);
    }

    public IOps Ops { get; }
    public IModelConfig Config { get; }
    public abstract IReadOnlyList<Linear> Linears { get; }
    public abstract IReadOnlyList<NamedTensor> NormWeights { get; }

    public Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null)
    {
        int T = batch.TotalTokens;
        Validate(tokens, batch, cache, logitsFor);
        using var tokenIds = Ops.Upload(tokens, new Shape(T));                  // I32 [T]
        using var positions = Ops.Upload(batch.Positions(), new Shape(T));      // I32 [T]
        return Forward(tokenIds, positions, batch, cache, logitsFor, observe);
    }

    public Tensor Forward(Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null) =>
        Checked(new ForwardPass(Ops, _scratch, null), tokenIds, positions, batch, cache, logitsFor, observe);

    public Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, ParameterOverrides overrides)
    {
        int T = batch.TotalTokens;
        Validate(tokens, batch, null, LogitsFor.AllTokens);
        using var tokenIds = Ops.Upload(tokens, new Shape(T));                  // I32 [T]
        using var positions = Ops.Upload(batch.Positions(), new Shape(T));      // I32 [T]
        return Checked(new ForwardPass(Ops, _scratch, null, overrides), tokenIds, positions, batch, null, LogitsFor.AllTokens, null);
    }

    public Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, TrainingPass train, ActivationObserver? observe = null)
    {
        int T = batch.TotalTokens;
        Validate(tokens, batch, null, LogitsFor.AllTokens);
        var tokenIds = Ops.Upload(tokens, new Shape(T));                        // I32 [T]
        train.Tape.Own(tokenIds);
        var positions = Ops.Upload(batch.Positions(), new Shape(T));            // I32 [T]
        train.Tape.Own(positions);
        return Checked(new ForwardPass(Ops, _scratch, train), tokenIds, positions, batch, null, LogitsFor.AllTokens, observe);
    }

    /// <summary>
    /// The forward of ids [T] at positions [T], the same for every decoder-only family: embed, the blocks (each reading
    /// and appending its row of the cache), <see cref="RollingKvCache.Advance"/>, then the head over every token or
    /// over each sequence's last one (<see cref="LogitsFor.LastTokens"/>). Returns logits [T, V] or [B, V].
    /// </summary>
    private Tensor Run(ForwardPass pass, Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache,
        LogitsFor logitsFor, ActivationObserver? observe)
    {
        var h = Embed(pass, tokenIds, positions, batch);                          // [T, D] residual stream
        observe?.Invoke("embed", h);
        for (int layer = 0; layer < Config.LayerCount; layer++)
            h = pass.Train is { Recompute: true } train
                ? RecomputedBlock(train, layer, h, positions, batch, observe)
                : RunBlock(pass, layer, h, positions, batch, cache?.Layer(layer), observe);
        cache?.Advance(batch);
        var last = logitsFor == LogitsFor.LastTokens ? LastTokens(h, batch) : h; // [B or T, D]
        return Head(pass, last, observe);
    }

    /// <summary>
    /// One block under activation recompute (training, no cache). Its forward runs on a child tape dropped as soon as
    /// the block is done, so the tape keeps only the block's input (already on it) and a copy of its output. The
    /// backward runs the forward again on a fresh child tape, from the same input and with the same LoRA dropout masks
    /// (the RNG restarted from its state before the first run), replays it seeded with d(output), and hands d(input)
    /// to the tape; parameter gradients go straight into their shared buffers. Every op sees the inputs it saw without
    /// recompute and the contributions to each gradient arrive in the same order, so the gradients are bit-identical.
    /// </summary>
    private Tensor RecomputedBlock(TrainingPass train, int layer, Tensor h, Tensor positions, AttentionBatch batch, ActivationObserver? observe)
    {
        var tape = train.Tape;
        var rngState = train.DropoutRng?.State;
        Tensor output;
        using (var first = tape.Child())
        {
            var y = RunBlock(new ForwardPass(Ops, _scratch, train.On(first, train.DropoutRng)), layer, h, positions, batch, null, observe);
            output = tape.NewActivation([.. y.Shape.Dims]);
            Ops.Copy(y, output);
        }
        tape.Record(() =>
        {
            if (tape.GradOf(output) is not { } dOutput) return;
            using var again = tape.Child();
            var rng = rngState is null ? null : Xoshiro256StarStar.FromState(rngState);
            var y = RunBlock(new ForwardPass(Ops, _scratch, train.On(again, rng)), layer, h, positions, batch, null, null);
            again.Backward(y, dOutput);
            if (again.GradOf(h) is { } dInput) tape.AccumulateGrad(h, g => Ops.Copy(dInput, g));
        });
        return output;
    }

    /// <summary>The family's input embedding of ids [T] at positions [T]: the residual stream h [T, D].</summary>
    protected abstract Tensor Embed(ForwardPass pass, Tensor tokenIds, Tensor positions, AttentionBatch batch);

    /// <summary>One block: returns the new residual stream (h itself, updated in place, unless training).</summary>
    protected abstract Tensor RunBlock(ForwardPass pass, int layer, Tensor h, Tensor positions, AttentionBatch batch, KvCacheLayer? cache,
        ActivationObserver? observe);

    /// <summary>The final norm and the output projection: rows [R, D] → logits [R, V].</summary>
    protected abstract Tensor Head(ForwardPass pass, Tensor rows, ActivationObserver? observe);

    /// <summary>Gathers the last row of each sequence, h [T, D] → [B, D], with the embedding gather (rows of h as the table).</summary>
    protected Tensor LastTokens(Tensor h, AttentionBatch batch)
    {
        var lastIndex = new int[batch.SequenceCount];
        for (int b = 0; b < lastIndex.Length; b++) lastIndex[b] = batch.TokenOffsets[b] + batch.Lengths[b] - 1;
        using var index = Ops.Upload(lastIndex, new Shape(lastIndex.Length));
        var last = _scratch.Get("last", lastIndex.Length, h.Shape[-1]);
        Ops.EmbeddingForward(index, h, last);
        return last;
    }

    private Tensor Checked(ForwardPass pass, Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache,
        LogitsFor logitsFor, ActivationObserver? observe)
    {
        int T = batch.TotalTokens;
        if (tokenIds.ElementCount != T || positions.ElementCount != T)
            throw new ArgumentException($"forward: {tokenIds.ElementCount} token ids and {positions.ElementCount} positions for a batch of {T}");
        return Run(pass, tokenIds, positions, batch, cache, logitsFor, observe);
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
        if (cache is not null && cache.LayerCount != Config.LayerCount)
            throw new ArgumentException($"forward: the cache has {cache.LayerCount} layers, the model {Config.LayerCount}");
    }

    public virtual void Dispose()
    {
        _scratch.Dispose();
        GC.SuppressFinalize(this);
    }
}
