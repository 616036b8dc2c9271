using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Bench;

/// <summary>
/// Named model shapes for synthetic benchmarks (gpt-fast's transformer_configs): the one place a preset is spelled out.
/// "7b" is Mistral 7B v0.1's params.json; "tiny" is the parity fixture's shape (an emulator smoke test).
/// </summary>
public static class ShapePresets
{
    public static IReadOnlyDictionary<string, MistralConfig> All { get; } = new Dictionary<string, MistralConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["7b"] = new(Dim: 4096, NLayers: 32, HeadDim: 128, HiddenDim: 14336, NHeads: 32, NKvHeads: 8, SlidingWindow: 4096,
            NormEps: 1e-5f, VocabSize: 32000, RopeTheta: 10000f),
        ["tiny"] = new(Dim: 64, NLayers: 2, HeadDim: 16, HiddenDim: 176, NHeads: 4, NKvHeads: 2, SlidingWindow: 16,
            NormEps: 1e-5f, VocabSize: 32000, RopeTheta: 10000f),
    };

    public static MistralConfig Get(string name) =>
        All.TryGetValue(name, out var config)
            ? config
            : throw new ArgumentException($"unknown shape '{name}' (known: {string.Join(", ", All.Keys)})");
}
