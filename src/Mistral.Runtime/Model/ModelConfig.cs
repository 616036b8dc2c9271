namespace Mistral.Runtime.Model;

/// <summary>
/// The one model configuration record, read from params.json (native) or config.json (Hugging Face) and validated once.
/// Names follow params.json. HeadDim is explicit: n_heads·head_dim need not equal dim.
/// SlidingWindow null means full causal attention. ContextLength is the longest sequence the model was trained for when
/// the checkpoint says so (HF max_position_embeddings), else null.
/// </summary>
public sealed record ModelConfig(
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
    int? ContextLength = null)
{
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
}
