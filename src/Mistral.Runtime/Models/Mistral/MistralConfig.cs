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
    int IModelConfig.KvHeads => NKvHeads;

    /// <summary>Mistral checkpoints do not state their special ids; the tokenizer (and the reference: BOS 1, EOS 2) does.</summary>
    public int? BosId => null;
    public int? EosId => null;

    /// <summary>Attention window in keys including the query itself; int.MaxValue when there is none.</summary>
    public int Window => SlidingWindow ?? int.MaxValue;

    public long ParameterCount
    {
        get
        {
            long attention = (long)Dim * NHeads * HeadDim * 2 + (long)Dim * NKvHeads * HeadDim * 2;
            long ffn = 3L * Dim * HiddenDim;
            long perLayer = attention + ffn + 2L * Dim;
            long embeddings = (long)VocabSize * Dim * (TieWordEmbeddings ? 1 : 2);
            return perLayer * NLayers + embeddings + Dim;
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
