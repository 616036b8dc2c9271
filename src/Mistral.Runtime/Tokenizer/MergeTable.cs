using System.Text;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// The merge rules of a BPE vocabulary as one pair table, (left symbol, right symbol) → (merged piece, priority), so
/// that SentencePiece's score order and Hugging Face's merge-rank order run through the same merge loop.
/// Symbols are piece ids, plus "virtual" ids ≥ piece count for characters that occur inside pieces without being
/// pieces themselves (SentencePiece still merges those, because it looks up the concatenated string).
/// </summary>
internal sealed class MergeTable
{
    /// <summary>What merging a pair gives: the piece id and its priority (higher merges first).</summary>
    public readonly record struct Merge(int Piece, float Priority);

    /// <summary>Symbol for a character that is in no piece at all: it never merges and ends in byte fallback.</summary>
    public const int NoSymbol = -1;

    private readonly int[] _bmpToSymbol = new int[0x10000]; // a flat table for the common case: ~5% faster encoding
    private readonly Dictionary<int, int> _runeToSymbol;
    private readonly Dictionary<long, Merge> _pairs;

    private MergeTable(Dictionary<int, int> runeToSymbol, Dictionary<long, Merge> pairs)
    {
        _runeToSymbol = runeToSymbol;
        _pairs = pairs;
        Array.Fill(_bmpToSymbol, NoSymbol);
        foreach (var (rune, symbol) in runeToSymbol)
            if (rune < _bmpToSymbol.Length)
                _bmpToSymbol[rune] = symbol;
    }

    public int PairCount => _pairs.Count;

    /// <summary>The symbol a single character starts as (a piece id, a virtual id, or <see cref="NoSymbol"/>).</summary>
    public int SymbolOf(Rune rune) =>
        rune.IsBmp ? _bmpToSymbol[rune.Value]
        : _runeToSymbol.TryGetValue(rune.Value, out var symbol) ? symbol : NoSymbol;

    public bool TryGetMerge(int left, int right, out Merge merge)
    {
        if (left < 0 || right < 0)
        {
            merge = default;
            return false;
        }
        return _pairs.TryGetValue(Key(left, right), out merge);
    }

    /// <summary>
    /// SentencePiece BPE: any two adjacent symbols whose concatenation is a NORMAL piece may merge, and the merged
    /// piece's score is the priority. Every split of every piece into two symbols is a pair.
    /// </summary>
    public static MergeTable FromScores(SentencePieceSpec spec)
    {
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < spec.Pieces.Count; id++)
            if (spec.Pieces[id].Type == PieceType.Normal)
                symbols[spec.Pieces[id].Text] = id;

        // Characters inside pieces that are not pieces themselves get virtual ids, so the pair table is complete.
        var nextVirtual = spec.Pieces.Count;
        for (var id = 0; id < spec.Pieces.Count; id++)
        {
            if (spec.Pieces[id].Type != PieceType.Normal)
                continue;
            foreach (var rune in spec.Pieces[id].Text.EnumerateRunes())
                if (symbols.TryAdd(rune.ToString(), nextVirtual))
                    nextVirtual++;
        }

        var lookup = symbols.GetAlternateLookup<ReadOnlySpan<char>>();
        var pairs = new Dictionary<long, Merge>();
        for (var id = 0; id < spec.Pieces.Count; id++)
        {
            var piece = spec.Pieces[id];
            if (piece.Type != PieceType.Normal)
                continue;
            var text = piece.Text.AsSpan();
            // Split after every character except the last (split points fall on rune boundaries only).
            for (var split = Rune.GetRuneAt(piece.Text, 0).Utf16SequenceLength; split < text.Length;
                 split += Rune.GetRuneAt(piece.Text, split).Utf16SequenceLength)
            {
                if (lookup.TryGetValue(text[..split], out var left) && lookup.TryGetValue(text[split..], out var right))
                    pairs[Key(left, right)] = new Merge(id, piece.Score);
            }
        }
        return new MergeTable(RuneSymbols(symbols), pairs);
    }

    /// <summary>
    /// Hugging Face / GPT-2 BPE: only the listed merges apply, earlier ones first (priority = −rank). Both halves and
    /// the result must be tokens, as the `tokenizers` library requires when it loads a model. Only tokens for which
    /// <paramref name="isSymbol"/> holds take part: they start as single characters and are what merges combine.
    /// </summary>
    /// <param name="tokens">[vocab] token text by id.</param>
    public static MergeTable FromRankedMerges(IReadOnlyList<string> tokens, Func<int, bool> isSymbol,
        IReadOnlyList<(string Left, string Right)> merges, string path)
    {
        var vocab = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (var id = 0; id < tokens.Count; id++)
            vocab.TryAdd(tokens[id], id);

        var pairs = new Dictionary<long, Merge>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (leftText, rightText) = merges[rank];
            if (!vocab.TryGetValue(leftText, out var left) || !vocab.TryGetValue(rightText, out var right))
                throw new TokenizerFormatException(path, $"merge {rank} '{leftText} {rightText}' uses a token that is not in the vocabulary");
            if (!vocab.TryGetValue(leftText + rightText, out var merged))
                throw new TokenizerFormatException(path, $"merge {rank} '{leftText} {rightText}' makes '{leftText + rightText}', which is not in the vocabulary");
            // Byte-fallback and special tokens never stand as symbols while merging (byte fallback happens after),
            // so a merge over them would silently never apply; refuse it instead of encoding differently.
            if (!isSymbol(left) || !isSymbol(right))
                throw new TokenizerFormatException(path, $"merge {rank} '{leftText} {rightText}' merges a byte-fallback or special token, which is not supported");
            pairs.TryAdd(Key(left, right), new Merge(merged, -rank)); // a repeated pair keeps its first (best) rank
        }

        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < tokens.Count; id++)
            if (isSymbol(id))
                symbols.TryAdd(tokens[id], id);
        return new MergeTable(RuneSymbols(symbols), pairs);
    }

    // The single-character entries of a symbol table, keyed by code point for the initial split.
    private static Dictionary<int, int> RuneSymbols(Dictionary<string, int> symbols)
    {
        var runes = new Dictionary<int, int>();
        foreach (var (text, id) in symbols)
            if (Rune.DecodeFromUtf16(text, out var rune, out var used) == System.Buffers.OperationStatus.Done && used == text.Length)
                runes[rune.Value] = id;
        return runes;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
}
