namespace Mistral.Serving.Engine;

/// <summary>
/// What a sequence hands its reader: one event per generated token (Token set; Text is whatever text became final
/// with it, possibly "", since a UTF-8 character or a possible stop string may be held back), then one last event with
/// End set and the held-back text that turned out final. Index is the sequence's choice index in its request.
/// </summary>
public sealed record SequenceEvent(int Index, string Text)
{
    public int? Token { get; init; }
    public LogprobEntry? Logprob { get; init; }
    public SequenceEnd? End { get; init; }

    /// <summary>On the last event: tokens generated (a stop token included).</summary>
    public int GeneratedTokens { get; init; }

    /// <summary>On a <see cref="SequenceEnd.Failed"/> event: what went wrong.</summary>
    public string? Error { get; init; }
}
