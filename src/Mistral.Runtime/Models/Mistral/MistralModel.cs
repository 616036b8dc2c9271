using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Modules;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// The Mistral forward pass composed of modules, read like mistral-src model.py:
/// <code>
/// h = tok_embeddings(tokens)
/// for each layer:  h = h + wo(attention(attention_norm(h)))            RoPE on q, k; GQA; sliding window
///                  h = h + w2(silu(w1(f)) * w3(f)),  f = ffn_norm(h)
/// logits = output(norm(h))
/// </code>
/// Inference and training run this same code (<see cref="ForwardPass"/>). Does not own the weights.
/// Legend: T = packed tokens, B = sequences, D = dim, V = vocab.
/// </summary>
public sealed class MistralModel : CausalLm
{
    /// <summary>One transformer block's modules.</summary>
    private sealed record Block(RmsNorm AttentionNorm, Attention Attention, RmsNorm FfnNorm, SwiGluMlp FeedForward);

    private readonly MistralConfig _config;
    private readonly Embedding _embedding;
    private readonly Block[] _blocks;
    private readonly RmsNorm _norm;
    private readonly Linear _output;

    /// <param name="weights">resident on <paramref name="ops"/> under <see cref="MistralTensorNames"/>; not owned.</param>
    public MistralModel(IOps ops, MistralConfig config, ModelWeights weights) : base(ops, config)
    {
        _config = config;
        _embedding = new Embedding(MistralTensorNames.TokEmbeddings, weights[MistralTensorNames.TokEmbeddings]);
        var attention = new AttentionConfig(config.NHeads, config.NKvHeads, config.HeadDim, config.Window);
        var rope = new Rope(config.HeadDim, config.RopeTheta);
        _blocks = new Block[config.NLayers];
        for (int i = 0; i < config.NLayers; i++)
        {
            Linear Project(string target, string weightName) =>
                new(weightName[..^".weight".Length], weights[weightName], i, target);
            _blocks[i] = new Block(
                new RmsNorm(MistralTensorNames.AttentionNorm(i), weights[MistralTensorNames.AttentionNorm(i)], config.NormEps),
                new Attention(Project("wq", MistralTensorNames.Wq(i)), Project("wk", MistralTensorNames.Wk(i)),
                    Project("wv", MistralTensorNames.Wv(i)), Project("wo", MistralTensorNames.Wo(i)), attention, rope),
                new RmsNorm(MistralTensorNames.FfnNorm(i), weights[MistralTensorNames.FfnNorm(i)], config.NormEps),
                new SwiGluMlp(Project("w1", MistralTensorNames.W1(i)), Project("w3", MistralTensorNames.W3(i)), Project("w2", MistralTensorNames.W2(i))));
        }
        _norm = new RmsNorm(MistralTensorNames.Norm, weights[MistralTensorNames.Norm], config.NormEps);
        _output = new Linear("output", weights[MistralTensorNames.Output]);

        Linears = [.. _blocks.SelectMany(b => new[]
        {
            b.Attention.Wq, b.Attention.Wk, b.Attention.Wv, b.Attention.Wo, b.FeedForward.Gate, b.FeedForward.Down, b.FeedForward.Up,
        }), _output];
        NormWeights = [.. _blocks.SelectMany(b => new[] { b.AttentionNorm, b.FfnNorm }).Append(_norm).Select(n => new NamedTensor(n.WeightName, n.Weight))];
    }

    public override IReadOnlyList<Linear> Linears { get; }
    public override IReadOnlyList<NamedTensor> NormWeights { get; }

    /// <summary>h = tok_embeddings(tokens).</summary>
    protected override Tensor Embed(ForwardPass pass, Tensor tokenIds, Tensor positions, AttentionBatch batch)
    {
        var h = pass.Buffer("h", batch.TotalTokens, _config.Dim);               // [T, D] residual stream
        _embedding.Forward(pass, tokenIds, h);
        return h;
    }

    /// <summary>logits = output(norm(h)).</summary>
    protected override Tensor Head(ForwardPass pass, Tensor rows, ActivationObserver? observe)
    {
        int R = rows.Shape[0];
        var normOut = pass.Buffer("norm_out", R, _config.Dim);
        _norm.Forward(pass, rows, normOut);
        observe?.Invoke("norm_out", normOut);
        var logits = pass.Buffer("logits", R, _config.VocabSize);
        _output.Forward(pass, normOut, logits);
        return logits;
    }

    /// <summary>mistral-src TransformerBlock.forward. Returns the new residual stream h [T, D] (h itself, updated in place, unless training).</summary>
    protected override Tensor RunBlock(ForwardPass pass, int layer, Tensor h, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, ActivationObserver? observe)
    {
        var block = _blocks[layer];
        string name = $"layers.{layer}.";
        int T = batch.TotalTokens, D = _config.Dim;

        // Inference that observes nothing adds each sub-block's output straight into h (in the output projections'
        // epilogue); otherwise the sub-block output is a tensor of its own, observed and added.
        bool fuseResidual = pass.Train is null && observe is null;

        // h = h + wo(attention(attention_norm(h)))
        var x = pass.Buffer("x", T, D);       // normed input of a sub-block [T, D]
        block.AttentionNorm.Forward(pass, h, x);
        observe?.Invoke(name + "attention_norm_out", x);
        if (fuseResidual)
        {
            block.Attention.Forward(pass, x, positions, batch, cache, h, accumulate: true);
        }
        else
        {
            var proj = pass.Buffer("proj", T, D); // sub-block output before the residual add [T, D]
            block.Attention.Forward(pass, x, positions, batch, cache, proj, observe, name);
            observe?.Invoke(name + "attention_out", proj);
            h = Residual.Add(pass, h, proj);
        }

        // h = h + w2(silu(w1(f)) * w3(f)), f = ffn_norm(h)
        x = pass.Buffer("x", T, D);
        block.FfnNorm.Forward(pass, h, x);
        observe?.Invoke(name + "ffn_norm_out", x);
        if (fuseResidual)
        {
            block.FeedForward.Forward(pass, x, h, accumulate: true);
        }
        else
        {
            var proj = pass.Buffer("proj", T, D);
            block.FeedForward.Forward(pass, x, proj);
            observe?.Invoke(name + "ffn_out", proj);
            h = Residual.Add(pass, h, proj);
        }
        observe?.Invoke(name + "out", h);
        return h;
    }
}
