namespace Mistral.Runtime.Evaluation;

/// <summary>
/// One sequence to score: the model reads <see cref="Tokens"/>[..^1] from position 0 and predicts Tokens[t + 1] at
/// row t; the targets t ≥ <see cref="ScoredFrom"/> are scored (the earlier ones are context only).
/// </summary>
public readonly record struct ScoredSequence(ReadOnlyMemory<int> Tokens, int ScoredFrom)
{
    /// <summary>Tokens the model reads: all but the last.</summary>
    public int InputCount => Tokens.Length - 1;

    /// <summary>Targets scored: InputCount − ScoredFrom.</summary>
    public int ScoredCount => InputCount - ScoredFrom;
}
