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

    public static IEnumerable<HostTensor> Initialize(Gpt2Config config, ulong seed)
    {
        double projStd = WeightInit.ResidualProjectionStd(Std, config.NLayer);
        var expected = Gpt2TensorNames.EngineExpected(config);
        for (int i = 0; i < expected.Count; i++)
        {
            var (name, shape) = expected[i];
            yield return Kind(name, config) switch
            {
                TensorKind.NormWeight => WeightInit.Constant(name, shape, 1f),
                TensorKind.Bias => WeightInit.Constant(name, shape, 0f),
                TensorKind.ResidualProjection => WeightInit.Normal(name, shape, projStd, seed, i),
                _ => WeightInit.Normal(name, shape, Std, seed, i),
            };
        }
    }

    private enum TensorKind { Matrix, ResidualProjection, NormWeight, Bias }

    private static TensorKind Kind(string name, Gpt2Config config)
    {
        if (name.EndsWith(".bias", StringComparison.Ordinal)) return TensorKind.Bias;   // LayerNorm biases too
        if (name == Gpt2TensorNames.LnFWeight) return TensorKind.NormWeight;
        for (int layer = 0; layer < config.NLayer; layer++)
        {
            if (name == Gpt2TensorNames.Ln1Weight(layer) || name == Gpt2TensorNames.Ln2Weight(layer)) return TensorKind.NormWeight;
            if (name == Gpt2TensorNames.AttnCProjWeight(layer) || name == Gpt2TensorNames.MlpCProjWeight(layer)) return TensorKind.ResidualProjection;
        }
        return TensorKind.Matrix;
    }
}
