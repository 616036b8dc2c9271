namespace Mistral.Runtime.Evaluation;

/// <summary>One line of a LAMBADA-style file: the passage before the last word, the word, and where it was read (1-based line).</summary>
public sealed record LambadaExample(string Context, string Target, string File, int Line)
{
    /// <summary>
    /// The text the target continues: the context and the target joined by one space unless either side already
    /// carries the whitespace (LAMBADA's last word follows a space; lm-evaluation-harness puts it on the target).
    /// </summary>
    public string Joined => Context.Length > 0 && !char.IsWhiteSpace(Context[^1]) && !char.IsWhiteSpace(Target[0])
        ? $"{Context} {Target}"
        : Context + Target;
}
