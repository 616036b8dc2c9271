using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Models;

/// <summary>
/// The family registry: one line per family. Adding a family (Llama, Qwen) is its folder under Models/ plus its
/// line here; <see cref="Model.ModelDirectory"/> dispatches on what a directory holds through these lookups.
/// </summary>
public static class ModelFamilies
{
    public static IReadOnlyList<ModelFamily> All { get; } =
    [
        MistralFamily.Instance,
        Gpt2Family.Instance,
    ];

    /// <summary>The family whose native layout is params.json + consolidated.* (mistral-src's).</summary>
    public static ModelFamily ParamsJson => All.First(f => f.ReadsParamsJson);

    /// <summary>
    /// The family a config.json's <c>model_type</c> names. transformers always writes the field; a hand-made config
    /// without it is read as Mistral's, as the engine always has. Null for a type no family reads.
    /// </summary>
    public static ModelFamily? ForHfModelType(string? modelType) =>
        modelType is null ? MistralFamily.Instance : All.FirstOrDefault(f => f.HfModelTypes.Contains(modelType, StringComparer.Ordinal));

    /// <summary>Every config.json <c>model_type</c> some family reads, for the refusal of any other.</summary>
    public static IEnumerable<string> HfModelTypes => All.SelectMany(f => f.HfModelTypes);

    /// <summary>The model of <paramref name="weights"/>' family over them (the weights stay the caller's).</summary>
    public static ICausalLm Create(IOps ops, ModelWeights weights) => Of(weights.Config).Create(ops, weights);

    /// <summary>The family of a config (by <see cref="IModelConfig.Family"/>).</summary>
    public static ModelFamily Of(IModelConfig config) =>
        All.FirstOrDefault(f => f.Name == config.Family) ?? throw new ArgumentException($"no model family named '{config.Family}' is registered");
}
