namespace Mistral.Runtime.Generation;

/// <summary>Every sequence of a batch, in prompt order, and how long the batch took.</summary>
public sealed record GenerationResult(IReadOnlyList<SequenceOutput> Sequences, GenerationTimings Timings);
