using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// Initial weights for a Mistral-architecture model trained from scratch (mistral-src has no init of its own): GPT-2's
/// scheme carried over — every matrix (embeddings, wq, wk, wv, w1, w3, output) from N(0, 0.02²), the projections that
/// write into the residual stream (wo, w2) from N(0, (0.02 / sqrt(2·n_layers))²), RMSNorm weights 1. Native names, in
/// schema order.
/// </summary>
public static class MistralInit
{
    public const double Std = 0.02;

    public static IEnumerable<HostTensor> Initialize(MistralConfig config, ulong seed)
    {
        double projStd = WeightInit.ResidualProjectionStd(Std, config.NLayers);
        var residual = Enumerable.Range(0, config.NLayers).SelectMany(l => new[] { MistralTensorNames.Wo(l), MistralTensorNames.W2(l) })
            .ToHashSet(StringComparer.Ordinal);
        var norms = Enumerable.Range(0, config.NLayers).SelectMany(l => new[] { MistralTensorNames.AttentionNorm(l), MistralTensorNames.FfnNorm(l) })
            .Append(MistralTensorNames.Norm).ToHashSet(StringComparer.Ordinal);
        var expected = MistralTensorNames.Expected(config);
        for (int i = 0; i < expected.Count; i++)
        {
            var (name, shape) = expected[i];
            if (config.TieWordEmbeddings && name == MistralTensorNames.Output) continue;   // the embeddings themselves
            yield return norms.Contains(name) ? WeightInit.Constant(name, shape, 1f)
                : WeightInit.Normal(name, shape, residual.Contains(name) ? projStd : Std, seed, i);
        }
    }
}
