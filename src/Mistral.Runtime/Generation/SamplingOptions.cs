namespace Mistral.Runtime.Generation;

/// <summary>
/// How the next token is chosen from a row of logits. Temperature 0 is greedy (argmax, lowest id on ties).
/// TopK 0, TopP 1, MinP 0 and RepetitionPenalty 1 switch the respective filter off.
/// RepetitionWindow is how many of the most recent tokens (prompt included) the penalty looks at (llama.cpp's
/// repeat_last_n); 0 looks at all of them.
/// </summary>
public sealed record SamplingOptions(
    float Temperature = 0f,
    int TopK = 0,
    float TopP = 1f,
    float MinP = 0f,
    float RepetitionPenalty = 1f,
    int RepetitionWindow = 64,
    ulong Seed = 0)
{
    public static SamplingOptions Greedy { get; } = new();

    public bool IsGreedy => Temperature == 0f;

    /// <summary>Throws ArgumentException naming the first out-of-range setting.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be a finite number >= 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"top-k must be >= 0 (0 = off), got {TopK}");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1] (1 = off), got {TopP}");
        if (!(MinP >= 0f && MinP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1] (0 = off), got {MinP}");
        if (!(RepetitionPenalty > 0f) || float.IsInfinity(RepetitionPenalty)) throw new ArgumentException($"repeat penalty must be a finite number > 0 (1 = off), got {RepetitionPenalty}");
        if (RepetitionWindow < 0) throw new ArgumentException($"repetition window must be >= 0 (0 = all tokens), got {RepetitionWindow}");
    }
}
