namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Everything <see cref="SentencePieceBpe"/> needs apart from the merge order, whichever file it was read from.
/// Piece ids are indices into <see cref="Pieces"/>. Special ids are -1 when the model has no such token.
/// </summary>
/// <param name="UnknownSurface">What an unknown token decodes to (SentencePiece's unk_surface, " ⁇ " by default).</param>
public sealed record SentencePieceSpec(
    IReadOnlyList<Piece> Pieces,
    NormalizerSpec Normalizer,
    bool ByteFallback,
    int UnkId,
    int BosId,
    int EosId,
    string UnknownSurface)
{
    /// <summary>SentencePiece's default unk_surface: " ⁇ " (U+2047 between spaces).</summary>
    public const string DefaultUnknownSurface = " \u2047 ";
}
