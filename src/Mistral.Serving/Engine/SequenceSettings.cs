using Mistral.Runtime.Generation;

namespace Mistral.Serving.Engine;

/// <summary>
/// How one sequence (one choice of a request) is generated. TopLogprobs: null = no logprobs; k = the chosen token's
/// logprob and the k most likely alternatives. PromptLogprobs: also score the prompt (completions' echo + logprobs).
/// StopTokenIds end the sequence when produced (the tokenizer's EOS); StopStrings end it when its text contains one.
/// SamplerStream is mixed into the seed so the n choices of one request draw differently from the same seed.
/// </summary>
public sealed record SequenceSettings
{
    public int MaxTokens { get; init; } = 16;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;
    public int SamplerStream { get; init; }
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    public int? TopLogprobs { get; init; }
    public bool PromptLogprobs { get; init; }
}
