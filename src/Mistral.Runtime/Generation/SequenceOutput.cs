namespace Mistral.Runtime.Generation;

/// <summary>
/// One sequence's result. Tokens are the generated ids (the prompt excluded); Logprobs[i] = log-softmax of the
/// model's raw logits at Tokens[i] (before penalty, temperature or filters), fp32, empty when
/// GenerationOptions.TokenLogprobs is off. PromptLogprobs[i] is the logprob of
/// Prompt[i + 1], present when requested.
/// </summary>
public sealed record SequenceOutput(int[] Prompt, int[] Tokens, float[] Logprobs, float[]? PromptLogprobs, FinishReason Finish);
