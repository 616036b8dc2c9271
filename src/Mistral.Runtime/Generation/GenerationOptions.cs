namespace Mistral.Runtime.Generation;

/// <summary>
/// Settings of one <see cref="Generator.Generate"/> call.
/// ChunkSize: prefill cuts every prompt at offsets 0, c, 2c, … (null = each prompt in one piece).
/// CacheSlots: positions kept per sequence (null = min(longest prompt + MaxTokens, window), mistral-src's choice).
/// EosId: stop a sequence when it produces this id (null = never, as the reference generate() does).
/// PromptLogprobs: also report the logprob of every prompt token after the first, as the reference's generate()
/// does; this computes logits for every prompt token instead of only the last one.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;
    public int? ChunkSize { get; init; }
    public int? CacheSlots { get; init; }
    public int? EosId { get; init; }
    public bool PromptLogprobs { get; init; }
}
