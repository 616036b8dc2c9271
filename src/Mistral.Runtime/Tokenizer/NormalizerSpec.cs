using System.Text;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// SentencePiece's text normalization as far as Mistral-family models use it: the identity character map plus the
/// three whitespace flags of sentencepiece_model.proto's NormalizerSpec (defaults there: all true).
/// </summary>
public sealed record NormalizerSpec(bool AddDummyPrefix, bool RemoveExtraWhitespaces, bool EscapeWhitespaces)
{
    /// <summary>The meta symbol '▁' (U+2581) that stands for a space inside pieces.</summary>
    public const char SpaceSymbol = '\u2581';

    /// <summary>Mistral 7B's settings: dummy prefix, spaces kept as they are, spaces escaped to '▁'.</summary>
    public static NormalizerSpec Mistral { get; } = new(AddDummyPrefix: true, RemoveExtraWhitespaces: false, EscapeWhitespaces: true);

    /// <summary>
    /// The text the BPE merges run over. Empty text stays empty (no dummy prefix), as in SentencePiece's
    /// Normalizer::Normalize; only ' ' counts as whitespace, because the identity map does not fold other spaces.
    /// </summary>
    public string Normalize(string text)
    {
        if (RemoveExtraWhitespaces)
            text = CollapseSpaces(text);
        if (text.Length == 0)
            return text;
        var builder = new StringBuilder(text.Length + 1);
        if (AddDummyPrefix)
            builder.Append(' ');
        builder.Append(text);
        if (EscapeWhitespaces)
            builder.Replace(' ', SpaceSymbol);
        return builder.ToString();
    }

    // Leading and trailing spaces dropped, inner runs of spaces become one.
    private static string CollapseSpaces(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (c == ' ')
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (pendingSpace)
                builder.Append(' ');
            pendingSpace = false;
            builder.Append(c);
        }
        return builder.ToString();
    }
}
