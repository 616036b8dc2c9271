namespace Mistral.Runtime.Generation;

/// <summary>
/// Wall-clock split of a generation, as llama.cpp reports it: prompt processing (every prefill chunk, up to the first
/// sampled token's logits) and generation (sampling plus decode steps). Token counts are summed over the batch.
/// </summary>
public sealed record GenerationTimings(int PromptTokens, TimeSpan PrefillTime, int GeneratedTokens, TimeSpan DecodeTime)
{
    public double PromptTokensPerSecond => PromptTokens / Math.Max(PrefillTime.TotalSeconds, 1e-9);
    public double GeneratedTokensPerSecond => GeneratedTokens / Math.Max(DecodeTime.TotalSeconds, 1e-9);

    /// <summary>llama.cpp-style summary line.</summary>
    public override string ToString() =>
        $"prompt: {PromptTokens} tokens in {PrefillTime.TotalMilliseconds:F1} ms ({PromptTokensPerSecond:F1} tok/s) | " +
        $"generation: {GeneratedTokens} tokens in {DecodeTime.TotalMilliseconds:F1} ms ({GeneratedTokensPerSecond:F1} tok/s)";
}
