using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Bench;

/// <summary>
/// Named model shapes for synthetic benchmarks (gpt-fast's transformer_configs): the one place a preset is spelled out.
/// "7b" is Mistral 7B v0.1's params.json; "tiny" is the parity fixture's shape (an emulator smoke test);
/// "gpt2-small" / "gpt2-medium" are the hub's gpt2 and gpt2-medium (124M, 355M).
/// </summary>
public static class ShapePresets
{
    /// <summary>The Mistral-family shapes: what the kernel and LoRA training benches take (their cases are Mistral's ops).</summary>
    public static IReadOnlyDictionary<string, MistralConfig> Mistral { get; } = new Dictionary<string, MistralConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["7b"] = new(Dim: 4096, NLayers: 32, HeadDim: 128, HiddenDim: 14336, NHeads: 32, NKvHeads: 8, SlidingWindow: 4096,
            NormEps: 1e-5f, VocabSize: 32000, RopeTheta: 10000f),
        ["tiny"] = new(Dim: 64, NLayers: 2, HeadDim: 16, HiddenDim: 176, NHeads: 4, NKvHeads: 2, SlidingWindow: 16,
            NormEps: 1e-5f, VocabSize: 32000, RopeTheta: 10000f),
    };

    /// <summary>Every shape a whole-model bench (prefill, decode) can synthesize, of any family.</summary>
    public static IReadOnlyDictionary<string, IModelConfig> All { get; } =
        Mistral.ToDictionary(p => p.Key, IModelConfig (p) => p.Value, StringComparer.OrdinalIgnoreCase)
            .Concat(new Dictionary<string, IModelConfig> { ["gpt2-small"] = Gpt2Config.Small, ["gpt2-medium"] = Gpt2Config.Medium })
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

    public static IModelConfig Get(string name) => Find(All, name);

    public static MistralConfig GetMistral(string name) => Find(Mistral, name);

    private static T Find<T>(IReadOnlyDictionary<string, T> presets, string name) =>
        presets.TryGetValue(name, out var config)
            ? config
            : throw new ArgumentException($"unknown shape '{name}' (known: {string.Join(", ", presets.Keys)})");
}
