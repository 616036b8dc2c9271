namespace Mistral.Serving.Engine;

/// <summary>
/// MaxQueue: sequences that may wait for a cache row before new requests are refused.
/// PrefillChunk: prompts are cut at offsets 0, c, 2c, … whatever else runs, so a sequence's computation, and hence its
/// greedy output, never depends on its neighbours. StepTokens: tokens one step may carry (decode tokens first, then
/// prompt chunks), so a long prompt does not stall the running batch; one chunk always goes in.
/// </summary>
public sealed record SchedulerOptions
{
    public int MaxQueue { get; init; } = 256;
    public int PrefillChunk { get; init; } = 256;
    public int StepTokens { get; init; } = 512;

    public void Validate()
    {
        if (MaxQueue < 0) throw new ArgumentException($"max queue must be >= 0, got {MaxQueue}");
        if (PrefillChunk <= 0) throw new ArgumentException($"prefill chunk must be > 0, got {PrefillChunk}");
        if (StepTokens <= 0) throw new ArgumentException($"step tokens must be > 0, got {StepTokens}");
    }
}
