namespace Mistral.Runtime.Generation;

/// <summary>Why a sequence stopped growing.</summary>
public enum FinishReason
{
    /// <summary>It produced MaxTokens tokens, or reached the model's context length.</summary>
    Length,
    /// <summary>It produced the end-of-sequence token (kept as its last token).</summary>
    Eos,
    /// <summary>The token callback asked to stop (a stop string appeared).</summary>
    Stop,
}
