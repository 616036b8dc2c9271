using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// Initial weights for a Mistral-architecture model trained from scratch (mistral-src has no init of its own): GPT-2's
/// scheme carried over — every matrix (embeddings, wq, wk, wv, w1, w3, output) from N(0, 0.02²), the projections that
/// write into the residual stream (wo, w2) from N(0, (0.02 / sqrt(2·n_layers))²), RMSNorm weights 1. Native names, in
/// schema order (a tied output is the embeddings, not drawn twice).
/// </summary>
public static class MistralInit
{
    public const double Std = 0.02;

    public static IEnumerable<HostTensor> Initialize(MistralConfig config, ulong seed) =>
        WeightInit.Gpt2Scheme(
            [.. MistralTensorNames.Expected(config).Where(e => !(config.TieWordEmbeddings && e.Name == MistralTensorNames.Output))],
            seed, Std, config.NLayers,
            Enumerable.Range(0, config.NLayers).SelectMany(l => new[] { MistralTensorNames.Wo(l), MistralTensorNames.W2(l) })
                .ToHashSet(StringComparer.Ordinal),
            Enumerable.Range(0, config.NLayers).SelectMany(l => new[] { MistralTensorNames.AttentionNorm(l), MistralTensorNames.FfnNorm(l) })
                .Append(MistralTensorNames.Norm).ToHashSet(StringComparer.Ordinal));
}
