using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// The base of the engine's tokenizers: <see cref="ITokenizer"/> for the engine, and Microsoft.ML.Tokenizers'
/// <see cref="Microsoft.ML.Tokenizers.Tokenizer"/> for .NET code that knows that API (EncodeToIds, EncodeToTokens,
/// CountTokens, Decode). The library's own LlamaTokenizer mis-merges runs of spaces on Mistral's vocabulary, so the
/// encoding stays ours; this class only maps the library's calls onto it. The library's calls add no BOS or EOS (it
/// has no switch for them); <see cref="Encode"/> says when to. Token offsets are the spans each id decodes to.
/// </summary>
public abstract class EngineTokenizer : Microsoft.ML.Tokenizers.Tokenizer, ITokenizer
{
    public abstract int VocabSize { get; }
    public abstract int BosId { get; }
    public abstract int EosId { get; }
    public abstract bool AddsBos { get; }
    public abstract int UnkId { get; }

    public abstract int[] Encode(string text, bool bos, bool eos = false);

    /// <summary>Decodes ids to text (ITokenizer's and the library's Decode alike).</summary>
    public abstract override string Decode(IEnumerable<int> ids);

    public abstract IStreamingDecoder CreateStreamingDecoder();

    public abstract string IdToPiece(int id);

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var (ids, consumed) = EncodeForLibrary(text, textSpan, settings);
        var decoder = CreateStreamingDecoder();
        var tokens = new List<EncodedToken>(ids.Length);
        int position = 0;
        foreach (int id in ids)
        {
            int length = decoder.Push(id).Length;
            tokens.Add(new EncodedToken(id, IdToPiece(id), new Range(position, position + length)));
            position += length;
        }
        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = consumed };
    }

    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var (ids, consumed) = EncodeForLibrary(text, textSpan, settings);
        return new EncodeResults<int> { Tokens = ids, CharsConsumed = consumed };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        EncodeForLibrary(text, textSpan, settings).Ids.Length;

    /// <summary>Writes as much decoded text as fits, id by id (a partly fitting id is not written).</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var decoder = CreateStreamingDecoder();
        (idsConsumed, charsWritten) = (0, 0);
        foreach (int id in ids)
        {
            if (id < 0 || id >= VocabSize)
                return OperationStatus.InvalidData;
            var piece = decoder.Push(id);
            if (!piece.AsSpan().TryCopyTo(destination[charsWritten..]))
                return OperationStatus.DestinationTooSmall;
            charsWritten += piece.Length;
            idsConsumed++;
        }
        var rest = decoder.Flush();
        if (!rest.AsSpan().TryCopyTo(destination[charsWritten..]))
            return OperationStatus.DestinationTooSmall;
        charsWritten += rest.Length;
        return OperationStatus.Done;
    }

    /// <summary>The ids the library's calls return: no BOS/EOS, at most MaxTokenCount, and how many chars those cover.</summary>
    private (int[] Ids, int CharsConsumed) EncodeForLibrary(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var input = text ?? textSpan.ToString();
        var ids = Encode(input, bos: false);
        if (settings.MaxTokenCount <= 0 || ids.Length <= settings.MaxTokenCount)
            return (ids, input.Length);
        var kept = ids[..settings.MaxTokenCount];
        return (kept, Math.Min(input.Length, Decode(kept).Length));
    }
}
