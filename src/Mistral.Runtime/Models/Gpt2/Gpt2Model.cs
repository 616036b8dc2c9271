using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Modules;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// The GPT-2 forward pass composed of modules, read like Hugging Face GPT2LMHeadModel (and llm.c's GPT):
/// <code>
/// h = wte(tokens) + wpe(positions)
/// for each block:  h = h + attn.c_proj(attention(ln_1(h)))            q|k|v = c_attn, full causal, no RoPE
///                  h = h + mlp.c_proj(gelu(mlp.c_fc(ln_2(h))))
/// logits = ln_f(h) · wteᵀ                                              (the head is tied unless the config says not)
/// </code>
/// Every projection carries a bias. Observation points are the fixture's names (embed, h.{i}.ln_1_out, h.{i}.q, …,
/// ln_f_out). Inference and training run this same code (<see cref="ForwardPass"/>). Does not own the weights.
/// Legend: T = packed tokens, B = sequences, C = n_embd, V = vocab.
/// </summary>
public sealed class Gpt2Model : CausalLm
{
    /// <summary>One block's modules.</summary>
    private sealed record Block(LayerNorm Ln1, Attention Attention, LayerNorm Ln2, GeluMlp Mlp);

    private readonly Gpt2Config _config;
    private readonly Embedding _wte;
    private readonly Embedding _wpe;
    private readonly Block[] _blocks;
    private readonly LayerNorm _lnF;
    private readonly Linear _head;

    /// <param name="weights">resident on <paramref name="ops"/> under <see cref="Gpt2TensorNames.EngineExpected"/>'s names; not owned.</param>
    public Gpt2Model(IOps ops, Gpt2Config config, ModelWeights weights) : base(ops, config)
    {
        _config = config;
        _wte = new Embedding(Gpt2TensorNames.Wte, weights[Gpt2TensorNames.Wte]);
        _wpe = new Embedding(Gpt2TensorNames.Wpe, weights[Gpt2TensorNames.Wpe]);
        LayerNorm Norm(string weight, string bias) => new(weight, weights[weight], bias, weights[bias], config.LayerNormEpsilon);
        _blocks = new Block[config.NLayer];
        for (int i = 0; i < config.NLayer; i++)
        {
            Linear Project(string target, string weight, string bias) =>
                new(weight[..^".weight".Length], weights[weight], i, target, weights[bias]);
            var qkv = Gpt2TensorNames.QkvParts;
            var attention = new AttentionConfig(config.NHead, config.NHead, config.HeadDim, int.MaxValue, config.EngineScoreScale(i));
            _blocks[i] = new Block(
                Norm(Gpt2TensorNames.Ln1Weight(i), Gpt2TensorNames.Ln1Bias(i)),
                new Attention(
                    Project("q", Gpt2TensorNames.QkvWeight(i, qkv[0]), Gpt2TensorNames.QkvBias(i, qkv[0])),
                    Project("k", Gpt2TensorNames.QkvWeight(i, qkv[1]), Gpt2TensorNames.QkvBias(i, qkv[1])),
                    Project("v", Gpt2TensorNames.QkvWeight(i, qkv[2]), Gpt2TensorNames.QkvBias(i, qkv[2])),
                    Project("c_proj", Gpt2TensorNames.AttnCProjWeight(i), Gpt2TensorNames.AttnCProjBias(i)),
                    attention, rope: null, observeHeads: true),
                Norm(Gpt2TensorNames.Ln2Weight(i), Gpt2TensorNames.Ln2Bias(i)),
                new GeluMlp(
                    Project("c_fc", Gpt2TensorNames.CFcWeight(i), Gpt2TensorNames.CFcBias(i)),
                    Project("mlp.c_proj", Gpt2TensorNames.MlpCProjWeight(i), Gpt2TensorNames.MlpCProjBias(i)),
                    config.Activation == Gpt2Activation.GeluTanh ? GeluApproximation.Tanh : GeluApproximation.Erf));
        }
        _lnF = Norm(Gpt2TensorNames.LnFWeight, Gpt2TensorNames.LnFBias);
        _head = new Linear("lm_head", weights[Gpt2TensorNames.Output(config)], weightName: Gpt2TensorNames.Output(config));

        Linears = [.. _blocks.SelectMany(b => new[] { b.Attention.Wq, b.Attention.Wk, b.Attention.Wv, b.Attention.Wo, b.Mlp.Fc, b.Mlp.Proj }), _head];
        NormWeights = [.. _blocks.SelectMany(b => new[] { b.Ln1, b.Ln2 }).Append(_lnF)
            .SelectMany(n => new[] { new NamedTensor(n.WeightName, n.Weight), new NamedTensor(n.BiasName, n.Bias) })];
    }

    public override IReadOnlyList<Linear> Linears { get; }
    public override IReadOnlyList<NamedTensor> NormWeights { get; }

    /// <summary>h = wte(tokens) + wpe(positions).</summary>
    protected override Tensor Embed(ForwardPass pass, Tensor tokenIds, Tensor positions, AttentionBatch batch)
    {
        CheckPositions(batch);
        int T = batch.TotalTokens, C = _config.NEmbd;
        var h = pass.Buffer("h", T, C);                                          // [T, C] residual stream
        var pos = pass.Buffer("pos", T, C);                                      // [T, C] learned positions
        _wte.Forward(pass, tokenIds, h);
        _wpe.Forward(pass, positions, pos);
        return Residual.Add(pass, h, pos);
    }

    /// <summary>logits = ln_f(h) · wteᵀ (or lm_head when untied).</summary>
    protected override Tensor Head(ForwardPass pass, Tensor rows, ActivationObserver? observe)
    {
        int R = rows.Shape[0];
        var normOut = pass.Buffer("norm_out", R, _config.NEmbd);
        _lnF.Forward(pass, rows, normOut);
        observe?.Invoke("ln_f_out", normOut);
        var logits = pass.Buffer("logits", R, _config.VocabSize);
        _head.Forward(pass, normOut, logits);
        return logits;
    }

    /// <summary>GPT2Block.forward. Returns the new residual stream h [T, C] (h itself, updated in place, unless training).</summary>
    protected override Tensor RunBlock(ForwardPass pass, int layer, Tensor h, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, ActivationObserver? observe)
    {
        var block = _blocks[layer];
        string name = $"h.{layer}.";
        int T = batch.TotalTokens, C = _config.NEmbd;

        // h = h + attn.c_proj(attention(ln_1(h)))
        var x = pass.Buffer("x", T, C);       // normed input of a sub-block [T, C]
        var proj = pass.Buffer("proj", T, C); // sub-block output before the residual add [T, C]
        block.Ln1.Forward(pass, h, x);
        observe?.Invoke(name + "ln_1_out", x);
        block.Attention.Forward(pass, x, positions, batch, cache, proj, observe, name);
        observe?.Invoke(name + "attn_out", proj);
        h = Residual.Add(pass, h, proj);

        // h = h + mlp.c_proj(gelu(mlp.c_fc(ln_2(h))))
        x = pass.Buffer("x", T, C);
        proj = pass.Buffer("proj", T, C);
        block.Ln2.Forward(pass, h, x);
        observe?.Invoke(name + "ln_2_out", x);
        block.Mlp.Forward(pass, x, proj, observe, name);
        observe?.Invoke(name + "mlp_out", proj);
        h = Residual.Add(pass, h, proj);
        observe?.Invoke(name + "out", h);
        return h;
    }

    /// <summary>wpe has n_positions rows: a position past them has no embedding (HF raises there too).</summary>
    private void CheckPositions(AttentionBatch batch)
    {
        for (int b = 0; b < batch.SequenceCount; b++)
            if (batch.StartPositions[b] + batch.Lengths[b] > _config.NPositions)
                throw new ArgumentException($"forward: sequence {b} reaches position {batch.StartPositions[b] + batch.Lengths[b] - 1}, " +
                    $"but the model has {_config.NPositions} positions (n_positions)");
    }
}
