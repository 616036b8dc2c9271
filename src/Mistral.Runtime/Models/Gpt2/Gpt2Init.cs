using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// GPT-2's initial weights as Hugging Face GPT2PreTrainedModel._init_weights and llm.c draw them: wte, wpe, every
/// projection weight (and an untied lm_head) from N(0, 0.02²), the attn.c_proj and mlp.c_proj weights from
/// N(0, (0.02 / sqrt(2·n_layer))²), every bias 0, LayerNorm weights 1 and biases 0. Engine names and layout
/// (c_attn as its q, k, v thirds, each drawn like the fused weight would be), in schema order.
/// </summary>
public static class Gpt2Init
{
    public const double Std = 0.02;

    public static IEnumerable<HostTensor> Initialize(Gpt2Config config, ulong seed) =>
        WeightInit.Gpt2Scheme(Gpt2TensorNames.EngineExpected(config), seed, Std, config.NLayer,
            Enumerable.Range(0, config.NLayer).SelectMany(l => new[] { Gpt2TensorNames.AttnCProjWeight(l), Gpt2TensorNames.MlpCProjWeight(l) })
                .ToHashSet(StringComparer.Ordinal),
            Enumerable.Range(0, config.NLayer).SelectMany(l => new[] { Gpt2TensorNames.Ln1Weight(l), Gpt2TensorNames.Ln2Weight(l) })
                .Append(Gpt2TensorNames.LnFWeight).ToHashSet(StringComparer.Ordinal));
}
