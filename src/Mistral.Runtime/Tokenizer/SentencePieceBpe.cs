using System.Text;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// SentencePiece BPE as Mistral uses it: normalize (dummy prefix '▁', spaces → '▁'), split into characters, merge
/// adjacent symbols by the <see cref="MergeTable"/>'s priority, and spell every leftover character that is not a
/// piece as its UTF-8 bytes (&lt;0xNN&gt; tokens), or as UNK when the model has no byte fallback.
/// Decoding follows SentencePiece's DecodeSentencePiece (see <see cref="SentencePieceStreamingDecoder"/>).
/// </summary>
public sealed class SentencePieceBpe : EngineTokenizer
{
    private readonly SentencePieceSpec _spec;
    private readonly MergeTable _merges;
    private readonly int[] _byteToId = new int[256];

    internal SentencePieceBpe(SentencePieceSpec spec, MergeTable merges)
    {
        _spec = spec;
        _merges = merges;
        var count = spec.Pieces.Count;
        ByteOfPiece = new int[count];
        Surfaces = new string[count];
        Array.Fill(_byteToId, -1);
        for (var id = 0; id < count; id++)
        {
            var piece = spec.Pieces[id];
            ByteOfPiece[id] = piece.Type == PieceType.Byte ? SentencePieceSpecValidator.ByteValue(piece.Text) : -1;
            if (ByteOfPiece[id] >= 0)
                _byteToId[ByteOfPiece[id]] = id;
            Surfaces[id] = piece.Type switch
            {
                PieceType.Control => "",
                PieceType.Unknown => spec.UnknownSurface,
                PieceType.Byte => "",
                _ => piece.Text,
            };
        }
    }

    /// <summary>A tokenizer over a SentencePiece model's pieces, merging by piece score (tokenizer.model semantics).</summary>
    public static SentencePieceBpe FromSpec(SentencePieceSpec spec) => new(spec, MergeTable.FromScores(spec));

    public override int VocabSize => _spec.Pieces.Count;
    public override int BosId => _spec.BosId;
    public override bool AddsBos => BosId >= 0;
    public override int EosId => _spec.EosId;
    public override int UnkId => _spec.UnkId;
    public NormalizerSpec NormalizerRules => _spec.Normalizer;
    public bool ByteFallback => _spec.ByteFallback;

    /// <summary>[VocabSize] the byte a BYTE piece stands for, -1 for other pieces.</summary>
    internal int[] ByteOfPiece { get; }

    /// <summary>[VocabSize] piece text as it decodes before '▁' → ' ' ("" for control and byte pieces).</summary>
    internal string[] Surfaces { get; }

    public override string IdToPiece(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabSize);
        return _spec.Pieces[id].Text;
    }

    public PieceType TypeOf(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabSize);
        return _spec.Pieces[id].Type;
    }

    public override int[] Encode(string text, bool bos, bool eos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (bos)
            ids.Add(RequireSpecial(BosId, "BOS"));
        EncodeInto(text, ids);
        if (eos)
            ids.Add(RequireSpecial(EosId, "EOS"));
        return ids.ToArray();
    }

    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var decoder = new SentencePieceStreamingDecoder(this);
        var text = new StringBuilder();
        foreach (var id in ids)
            text.Append(decoder.Push(id));
        text.Append(decoder.Flush());
        return text.ToString();
    }

    public override IStreamingDecoder CreateStreamingDecoder() => new SentencePieceStreamingDecoder(this);

    private void EncodeInto(string text, List<int> ids)
    {
        var normalized = _spec.Normalizer.Normalize(text);
        if (normalized.Length == 0)
            return;

        // One symbol per character (a lone surrogate counts as U+FFFD, as UTF-8 encoding of the string would make it).
        var runes = new List<Rune>(normalized.Length);
        foreach (var rune in normalized.EnumerateRunes())
            runes.Add(rune);
        var symbols = new int[runes.Count];
        for (var i = 0; i < symbols.Length; i++)
            symbols[i] = _merges.SymbolOf(runes[i]);

        var next = new int[symbols.Length];
        BpeMerger.Merge(_merges, symbols, next);

        var previousWasUnknown = false;
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i >= 0; i = next[i])
        {
            var symbol = symbols[i];
            if (symbol >= 0 && symbol < VocabSize)
            {
                ids.Add(symbol);
                previousWasUnknown = false;
            }
            else if (_spec.ByteFallback)
            {
                // Not a piece: still a single original character (merges only ever produce pieces).
                var length = runes[i].EncodeToUtf8(utf8);
                for (var b = 0; b < length; b++)
                    ids.Add(_byteToId[utf8[b]]);
                previousWasUnknown = false;
            }
            else if (!previousWasUnknown)
            {
                // SentencePiece fuses a run of unknown characters into one UNK.
                ids.Add(UnkId);
                previousWasUnknown = true;
            }
        }
    }

    private static int RequireSpecial(int id, string name) =>
        id >= 0 ? id : throw new InvalidOperationException($"this tokenizer has no {name} token");
}
