namespace Mistral.Serving.Engine;

/// <summary>Why a sequence ended: OpenAI's finish reasons, and the two ways a sequence ends without one.</summary>
public enum SequenceEnd
{
    /// <summary>MaxTokens produced, or the row reached the longest sequence it may hold ("length").</summary>
    Length,
    /// <summary>A stop token (EOS) or a stop string ("stop").</summary>
    Stop,
    /// <summary>The client went away or the server shut down; nobody reads the result.</summary>
    Cancelled,
    /// <summary>The step it was in failed; <see cref="SequenceEvent.Error"/> says why.</summary>
    Failed,
}
