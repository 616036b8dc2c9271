namespace Mistral.Kernels.Checks;

/// <summary>The whole kernel sweep: every launcher, both storage dtypes, the awkward shapes.</summary>
public static class KernelChecks
{
    public static IEnumerable<KernelCheck> All() =>
        EmbeddingChecks.All()
            .Concat(RmsNormChecks.All())
            .Concat(LayerNormChecks.All())
            .Concat(RopeChecks.All())
            .Concat(SwiGluChecks.All())
            .Concat(GeluChecks.All())
            .Concat(BiasChecks.All())
            .Concat(ElementwiseChecks.All())
            .Concat(ArgmaxChecks.All())
            .Concat(GemmChecks.All())
            .Concat(GemvChecks.All())
            .Concat(CrossEntropyChecks.All())
            .Concat(AdamWChecks.All())
            .Concat(AttentionChecks.All());
}
