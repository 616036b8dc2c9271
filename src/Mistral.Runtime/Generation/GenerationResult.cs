namespace Mistral.Runtime.Generation;

/// <summary>
/// Every sequence of a batch, in prompt order, and how long the batch took. Path says how tokens were chosen;
/// LogitsDownloads counts the logits tensors copied to the host (prefill chunks and decode steps), 0 on the
/// device-argmax path.
/// </summary>
public sealed record GenerationResult(IReadOnlyList<SequenceOutput> Sequences, GenerationTimings Timings)
{
    public DecodePath Path { get; init; } = DecodePath.HostLogits;
    public int LogitsDownloads { get; init; }
}
