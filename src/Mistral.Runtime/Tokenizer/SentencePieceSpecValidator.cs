using System.Globalization;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Checks a <see cref="SentencePieceSpec"/> once, at load, so encoding can trust it: unique pieces, special ids in
/// range with the right types, and all 256 byte pieces present when byte fallback is on. Throws
/// <see cref="TokenizerFormatException"/> naming the file.
/// </summary>
internal static class SentencePieceSpecValidator
{
    public static void Validate(SentencePieceSpec spec, string path)
    {
        var seen = new Dictionary<string, int>(spec.Pieces.Count, StringComparer.Ordinal);
        for (var id = 0; id < spec.Pieces.Count; id++)
        {
            var piece = spec.Pieces[id];
            if (!seen.TryAdd(piece.Text, id))
                throw new TokenizerFormatException(path, $"piece '{piece.Text}' appears twice (ids {seen[piece.Text]} and {id})");
            if (piece.Type is PieceType.UserDefined or PieceType.Unused)
                throw new TokenizerFormatException(path,
                    $"piece {id} '{piece.Text}' has type {piece.Type}; only NORMAL, UNKNOWN, CONTROL and BYTE pieces are supported");
            if (piece.Type == PieceType.Byte && ByteValue(piece.Text) < 0)
                throw new TokenizerFormatException(path, $"byte piece {id} is '{piece.Text}', expected the form <0xNN>");
        }

        if (spec.UnkId < 0 || spec.UnkId >= spec.Pieces.Count || spec.Pieces[spec.UnkId].Type != PieceType.Unknown)
            throw new TokenizerFormatException(path, $"unk_id {spec.UnkId} is not a piece of type UNKNOWN");
        CheckControl(spec, spec.BosId, "bos_id", path);
        CheckControl(spec, spec.EosId, "eos_id", path);

        if (spec.ByteFallback)
        {
            var bytes = spec.Pieces.Count(p => p.Type == PieceType.Byte);
            if (bytes != 256)
                throw new TokenizerFormatException(path, $"byte_fallback is on but the model has {bytes} byte pieces, expected 256 (<0x00>..<0xFF>)");
        }
    }

    /// <summary>The byte a piece such as "&lt;0x1F&gt;" stands for, or -1 if the text has another form.</summary>
    public static int ByteValue(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
        && int.TryParse(text.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : -1;

    // BOS/EOS may be disabled (-1); when present they must be control tokens, or plain text could produce them.
    private static void CheckControl(SentencePieceSpec spec, int id, string name, string path)
    {
        if (id == -1)
            return;
        if (id < -1 || id >= spec.Pieces.Count || spec.Pieces[id].Type != PieceType.Control)
            throw new TokenizerFormatException(path, $"{name} {id} is not a piece of type CONTROL");
    }
}
