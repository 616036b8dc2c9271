namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// The Mistral family's configuration, read from params.json (native) or config.json (Hugging Face) and validated once.
/// Names follow params.json. HeadDim is explicit: n_heads·head_dim need not equal dim.
/// SlidingWindow null means full causal attention. ContextLength is the longest sequence the model was trained for when
/// the checkpoint says so (HF max_position_embeddings), else null.
/// </summary>
public sealed record MistralConfig(
    int Dim,
    int NLayers,
    int HeadDim,
    int HiddenDim,
    int NHeads,
    int NKvHeads,
    int? SlidingWindow,
    float NormEps,
    int VocabSize,
    float RopeTheta,
    bool TieWordEmbeddings = false,
    int? ContextLength = null) : IModelConfig
{
    public string Family => MistralFamily.FamilyName;
    int IModelConfig.LayerCount => NLayers;
    int IModelConfig.Width => Dim;
    int IModelConfig.FeedForwardWidth => HiddenDim;
    int IModelConfig.Heads => NHeads;
    int IModelConfig.KvHeads => NKvHeads;

    /// <summary>Mistral checkpoints do not state their special ids; the tokenizer (and the reference: BOS 1, EOS 2) does.</summary>
    public int? BosId => null;
    public int? EosId => null;

    /// <summary>Attention window in keys including the query itself; int.MaxValue when there is none.</summary>
    public int Window => SlidingWindow ?? int.MaxValue;

    /// <summary>Parameters the config implies; long.MaxValue when a hostile config's product overflows.</summary>
    public long ParameterCount
    {
        get
        {
            Int128 attention = (Int128)Dim * NHeads * HeadDim * 2 + (Int128)Dim * NKvHeads * HeadDim * 2;
            Int128 ffn = (Int128)3 * Dim * HiddenDim;
            Int128 perLayer = attention + ffn + (Int128)2 * Dim;
            Int128 embeddings = (Int128)VocabSize * Dim * (TieWordEmbeddings ? 1 : 2);
            Int128 total = perLayer * NLayers + embeddings + Dim;
            return total > long.MaxValue ? long.MaxValue : (long)total;
        }
    }

    public IReadOnlyList<(string Name, string Value)> Describe() =>
    [
        ("dim", Dim.ToString()),
        ("n_layers", NLayers.ToString()),
        ("head_dim", HeadDim.ToString()),
        ("hidden_dim", HiddenDim.ToString()),
        ("n_heads", NHeads.ToString()),
        ("n_kv_heads", NKvHeads.ToString()),
        ("sliding_window", SlidingWindow?.ToString() ?? "none"),
        ("norm_eps", $"{NormEps:G}"),
        ("vocab_size", VocabSize.ToString()),
        ("rope_theta", $"{RopeTheta:G}"),
        ("tied embeddings", TieWordEmbeddings ? "yes" : "no"),
        ("context", ContextLength?.ToString() ?? "not stated"),
    ];
}
