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
}
