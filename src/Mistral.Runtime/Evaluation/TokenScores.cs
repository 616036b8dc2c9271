namespace Mistral.Runtime.Evaluation;

/// <summary>
/// The scored targets of one <see cref="ScoredSequence"/>, in order: each target's cross-entropy in nats (fp32, as the
/// op computes it) and, when asked for, whether it was the greedy choice (the argmax of its logits row).
/// </summary>
public sealed record TokenScores(float[] Losses, bool[]? IsArgmax);
