using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// A named model shape for training from scratch (`model.id`). Family is "gpt2" (GPT2Config: learned positions, LayerNorm,
/// gelu_new MLP of HiddenDim = n_inner, tied embedding) or "mistral" (params.json: RoPE, RMSNorm, SwiGLU, grouped-query
/// attention). MaxPositions is GPT-2's n_positions, or the longest sequence a Mistral shape is meant for.
/// RopeTheta and SlidingWindow are Mistral's only (null for GPT-2; a null window is full attention).
/// </summary>
public sealed record ModelPreset(
    string Id,
    string Family,
    int NLayers,
    int Dim,
    int NHeads,
    int NKvHeads,
    int HeadDim,
    int HiddenDim,
    int VocabSize,
    int MaxPositions,
    double NormEps,
    double? RopeTheta,
    int? SlidingWindow)
{
    public const string Gpt2Family = "gpt2";
    public const string MistralFamily = "mistral";

    private const int Gpt2Vocab = 50257;
    private const int MistralVocab = 32000;

    private static ModelPreset Gpt2(string id, int layers, int dim, int heads, int positions) =>
        new(id, Gpt2Family, layers, dim, heads, heads, dim / heads, 4 * dim, Gpt2Vocab, positions, 1e-5, null, null);

    /// <summary>
    /// gpt2-micro is the CPU example (2 layers, 768 wide, 2 heads, 256 positions); gpt2-small … gpt2-xl are
    /// OpenAI's four GPT-2 sizes (124M, 355M, 774M, 1.5B). mistral-tiny is a CPU-sized Mistral shape, mistral-1b a
    /// 1B-class one for benches, mistral-7b Mistral 7B v0.1's shape.
    /// </summary>
    public static readonly IReadOnlyList<ModelPreset> All =
    [
        Gpt2("gpt2-micro", 2, 768, 2, 256),
        Gpt2("gpt2-small", 12, 768, 12, 1024),
        Gpt2("gpt2-medium", 24, 1024, 16, 1024),
        Gpt2("gpt2-large", 36, 1280, 20, 1024),
        Gpt2("gpt2-xl", 48, 1600, 25, 1024),
        new("mistral-tiny", MistralFamily, 2, 256, 4, 2, 64, 768, MistralVocab, 256, 1e-5, 10000, null),
        new("mistral-1b", MistralFamily, 16, 2048, 16, 8, 128, 5632, MistralVocab, 4096, 1e-5, 10000, 4096),
        new("mistral-7b", MistralFamily, 32, 4096, 32, 8, 128, 14336, MistralVocab, 32768, 1e-5, 10000, 4096),
    ];

    /// <summary>The preset named <paramref name="id"/>, or null.</summary>
    public static ModelPreset? Find(string id) => All.FirstOrDefault(p => p.Id == id);

    /// <summary>
    /// The model config of this shape: a <see cref="Gpt2Config"/> (gelu_new, tied head, bos = eos = 50256, the two
    /// attention flags as given) or a <see cref="MistralConfig"/> (untied output, ContextLength = MaxPositions).
    /// </summary>
    public IModelConfig ToConfig(bool scaleAttnByInverseLayerIdx = false, bool reorderAndUpcastAttn = false) => Family switch
    {
        Gpt2Family => new Gpt2Config(VocabSize, MaxPositions, Dim, NLayers, NHeads, HiddenDim, Gpt2Activation.GeluTanh, (float)NormEps,
            ScaleAttnByInverseLayerIdx: scaleAttnByInverseLayerIdx, ReorderAndUpcastAttn: reorderAndUpcastAttn,
            BosTokenId: Gpt2Vocab - 1, EosTokenId: Gpt2Vocab - 1),
        MistralFamily => new MistralConfig(Dim, NLayers, HeadDim, HiddenDim, NHeads, NKvHeads, SlidingWindow, (float)NormEps, VocabSize,
            (float)(RopeTheta ?? throw new InvalidOperationException($"preset '{Id}' has no rope_theta")), ContextLength: MaxPositions),
        _ => throw new InvalidOperationException($"preset '{Id}' has an unknown family '{Family}'"),
    };
}
