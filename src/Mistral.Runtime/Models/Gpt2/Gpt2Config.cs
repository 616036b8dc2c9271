namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A GPT-2 model's shape and semantics, as Hugging Face GPT2Config names them (read by <see cref="Gpt2ConfigReader"/>,
/// which validates it once). NInner is resolved (4·NEmbd when config.json has null). ReorderAndUpcastAttn only asks for
/// attention scores and softmax in fp32, which the engine's attention always does, so it changes no number here.
/// </summary>
public sealed record Gpt2Config(
    int VocabSize,
    int NPositions,
    int NEmbd,
    int NLayer,
    int NHead,
    int NInner,
    Gpt2Activation Activation,
    float LayerNormEpsilon,
    bool ScaleAttnWeights = true,
    bool ScaleAttnByInverseLayerIdx = false,
    bool ReorderAndUpcastAttn = false,
    bool TieWordEmbeddings = true,
    int? BosTokenId = null,
    int? EosTokenId = null) : IModelConfig
{
    public string Family => Gpt2Family.FamilyName;
    int IModelConfig.LayerCount => NLayer;
    int IModelConfig.Width => NEmbd;
    int IModelConfig.FeedForwardWidth => NInner;
    int IModelConfig.Heads => NHead;
    int IModelConfig.KvHeads => NHead;

    /// <summary>GPT-2 attends to the whole causal past: no window, so the KV cache holds up to NPositions positions.</summary>
    public int? SlidingWindow => null;
    public int? ContextLength => NPositions;
    public int? PositionLimit => NPositions;
    public int? BosId => BosTokenId;
    public int? EosId => EosTokenId;

    /// <summary>GPT-2 small (the hub's "gpt2"): 124,439,808 parameters. Synthetic shapes for benches.</summary>
    public static Gpt2Config Small { get; } = new(50257, 1024, 768, 12, 12, 3072, Gpt2Activation.GeluTanh, 1e-5f, BosTokenId: 50256, EosTokenId: 50256);

    /// <summary>GPT-2 medium ("gpt2-medium"): 354,823,168 parameters.</summary>
    public static Gpt2Config Medium { get; } = Small with { NEmbd = 1024, NLayer = 24, NHead = 16, NInner = 4096 };

    /// <summary>Features per attention head: NEmbd / NHead (the reader refuses configs where that is not exact).</summary>
    public int HeadDim => NEmbd / NHead;

    /// <summary>
    /// What multiplies q·k in layer <paramref name="layer"/> (0-based): 1/sqrt(HeadDim) when ScaleAttnWeights, then
    /// 1/(layer + 1) when ScaleAttnByInverseLayerIdx, as GPT2Attention._attn applies them.
    /// </summary>
    public float AttentionScoreScale(int layer) => ByLayer(ScaleAttnWeights ? 1f / MathF.Sqrt(HeadDim) : 1f, layer);

    /// <summary>
    /// Trainable parameters, the tied head counted once (what HF's num_parameters() reports); long.MaxValue when a
    /// hostile config's product overflows.
    /// </summary>
    public long ParameterCount
    {
        get
        {
            Int128 c = NEmbd, inner = NInner;
            Int128 perLayer = 2 * c + (c * 3 * c + 3 * c) + (c * c + c) + 2 * c + (c * inner + inner) + (inner * c + c);
            Int128 head = TieWordEmbeddings ? 0 : VocabSize * c;
            Int128 total = VocabSize * c + NPositions * c + NLayer * perLayer + 2 * c + head;
            return total > long.MaxValue ? long.MaxValue : (long)total;
        }
    }

    /// <summary>
    /// The multiplier the engine's attention applies on top of its own 1/sqrt(HeadDim) in layer <paramref name="layer"/>
    /// (<see cref="Mistral.Kernels.Ops.AttentionConfig.ScoreScale"/>): exactly 1 for the usual config, so the scores
    /// round as a plain 1/sqrt(HeadDim) scaling does; sqrt(HeadDim) undoes it when ScaleAttnWeights is off.
    /// </summary>
    public float EngineScoreScale(int layer) => ByLayer(ScaleAttnWeights ? 1f : MathF.Sqrt(HeadDim), layer);

    /// <summary><paramref name="scale"/> divided by (layer + 1) when ScaleAttnByInverseLayerIdx, for a 0-based layer of this model.</summary>
    private float ByLayer(float scale, int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, NLayer);
        return ScaleAttnByInverseLayerIdx ? scale / (layer + 1) : scale;
    }

    public IReadOnlyList<(string Name, string Value)> Describe() =>
    [
        ("n_embd", NEmbd.ToString()),
        ("n_layer", NLayer.ToString()),
        ("n_head", NHead.ToString()),
        ("head_dim", HeadDim.ToString()),
        ("n_inner", NInner.ToString()),
        ("context", $"{NPositions} positions (n_positions)"),
        ("activation", Activation == Gpt2Activation.GeluTanh ? "gelu_new (tanh)" : "gelu (erf)"),
        ("layer_norm_epsilon", $"{LayerNormEpsilon:G}"),
        ("vocab_size", VocabSize.ToString()),
        ("scale_attn_by_inverse_layer_idx", ScaleAttnByInverseLayerIdx ? "yes" : "no"),
        ("tied embeddings", TieWordEmbeddings ? "yes" : "no"),
        ("bos / eos", $"{BosTokenId?.ToString() ?? "none"} / {EosTokenId?.ToString() ?? "none"}"),
    ];
}
