namespace Mistral.Runtime.Evaluation;

/// <summary>
/// One window of a strided evaluation: the model reads stream tokens [Begin, End) from position 0 and scores the
/// tokens [ScoredFrom, End) (each predicted from the tokens before it inside the window); tokens before ScoredFrom
/// are context only, scored by an earlier window.
/// </summary>
public readonly record struct EvalWindow(int Begin, int End, int ScoredFrom)
{
    public int Length => End - Begin;
    public int ScoredCount => End - ScoredFrom;
}
