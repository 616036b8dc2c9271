namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// SentencePiece's decoding rules, one id at a time: control tokens give "", UNK gives the unknown surface, runs of
/// byte tokens become UTF-8 characters (held back while incomplete), '▁' becomes ' ', and the dummy prefix's space is
/// stripped from the first piece that starts with '▁' before any text has been produced
/// (sentencepiece_processor.cc: is_bos_ws / bos_ws_seen).
/// </summary>
internal sealed class SentencePieceStreamingDecoder : IStreamingDecoder
{
    private readonly SentencePieceBpe _tokenizer;
    private readonly bool _stripsLeadingSpace;
    private readonly bool _stripsAllLeadingSpaces;
    private readonly Utf8ByteAssembler _bytes = new();
    private bool _expectLeadingSpace = true;
    private bool _leadingSpaceSeen;
    private bool _producedText;

    public SentencePieceStreamingDecoder(SentencePieceBpe tokenizer)
    {
        _tokenizer = tokenizer;
        var normalizer = tokenizer.NormalizerRules;
        _stripsLeadingSpace = normalizer.AddDummyPrefix || normalizer.RemoveExtraWhitespaces;
        _stripsAllLeadingSpaces = normalizer.RemoveExtraWhitespaces;
    }

    public string Push(int id)
    {
        if ((uint)id >= (uint)_tokenizer.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary [0, {_tokenizer.VocabSize})");

        var byteValue = _tokenizer.ByteOfPiece[id];
        if (byteValue >= 0)
            return Produced(_bytes.Push((byte)byteValue));

        var flushed = Produced(_bytes.Flush());
        if (_leadingSpaceSeen || _producedText)
            _expectLeadingSpace = false;

        var piece = _tokenizer.Surfaces[id];
        _leadingSpaceSeen = false;
        var type = _tokenizer.TypeOf(id);
        if (_expectLeadingSpace && _stripsLeadingSpace && type is PieceType.Normal
            && piece.Length > 0 && piece[0] == NormalizerSpec.SpaceSymbol)
        {
            piece = piece[1..];
            _leadingSpaceSeen = !_stripsAllLeadingSpaces;
        }
        return flushed + Produced(piece.Replace(NormalizerSpec.SpaceSymbol, ' '));
    }

    public string Flush() => Produced(_bytes.Flush());

    private string Produced(string text)
    {
        if (text.Length > 0)
            _producedText = true;
        return text;
    }
}
