using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// GPT-2's byte-level BPE (OpenAI encoder.py; vocab.json + merges.txt): split the text with GPT-2's regex, spell
/// each piece's UTF-8 bytes with <see cref="ByteLevelAlphabet"/>, merge by rank. No normalization, no BOS/EOS unless
/// asked (both are &lt;|endoftext|&gt;, as in Hugging Face's gpt2), and "&lt;|endoftext|&gt;" inside text stays text.
/// </summary>
public sealed partial class Gpt2ByteLevelBpe : EngineTokenizer
{
    public const string VocabFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";
    private const string EndOfText = "<|endoftext|>";

    // encoder.py's pattern. .NET's \s is Unicode White_Space including U+0085, as Python's `regex` module's is.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Split();

    private readonly string[] _tokens;
    private readonly MergeTable _merges;

    private Gpt2ByteLevelBpe(string[] tokens, MergeTable merges, int endOfText)
    {
        _tokens = tokens;
        _merges = merges;
        EosId = endOfText;
    }

    public override int VocabSize => _tokens.Length;
    public override int BosId => EosId;
    public override bool AddsBos => false;
    public override int EosId { get; }
    public override int UnkId => -1; // every byte has a token, so nothing is unknown

    /// <summary>Loads vocab.json and merges.txt (the "#version" header line is optional).</summary>
    public static Gpt2ByteLevelBpe Load(string vocabPath, string mergesPath)
    {
        var tokens = ReadVocab(vocabPath);
        var merges = ReadMerges(mergesPath);
        var table = MergeTable.FromRankedMerges(tokens, id => tokens[id] != EndOfText, merges, mergesPath);
        foreach (var c in ByteLevelAlphabet.ByteToChar)
            if (table.SymbolOf(new Rune(c)) == MergeTable.NoSymbol)
                throw new TokenizerFormatException(vocabPath, $"byte stand-in '{c}' (U+{(int)c:X4}) is not in the vocabulary; not a GPT-2 byte-level vocabulary");
        var endOfText = Array.IndexOf(tokens, EndOfText);
        return new Gpt2ByteLevelBpe(tokens, table, endOfText);
    }

    public override string IdToPiece(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabSize);
        return _tokens[id];
    }

    public override int[] Encode(string text, bool bos, bool eos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (bos)
            ids.Add(BosId >= 0 ? BosId : throw new InvalidOperationException("this vocabulary has no <|endoftext|> token"));
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var match in Gpt2Split().EnumerateMatches(text))
        {
            var word = text.AsSpan(match.Index, match.Length);
            var symbols = new List<int>(word.Length);
            foreach (var rune in word.EnumerateRunes())
            {
                var length = rune.EncodeToUtf8(utf8);
                for (var b = 0; b < length; b++)
                    symbols.Add(_merges.SymbolOf(new Rune(ByteLevelAlphabet.ByteToChar[utf8[b]])));
            }
            var array = symbols.ToArray();
            var next = new int[array.Length];
            BpeMerger.Merge(_merges, array, next);
            for (var i = 0; i >= 0; i = next[i])
                ids.Add(array[i]);
        }
        if (eos)
            ids.Add(EosId >= 0 ? EosId : throw new InvalidOperationException("this vocabulary has no <|endoftext|> token"));
        return ids.ToArray();
    }

    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var decoder = CreateStreamingDecoder();
        var text = new StringBuilder();
        foreach (var id in ids)
            text.Append(decoder.Push(id));
        return text.Append(decoder.Flush()).ToString();
    }

    public override IStreamingDecoder CreateStreamingDecoder() => new ByteLevelStreamingDecoder(this);

    /// <summary>The bytes a token spells (its stand-in characters mapped back).</summary>
    internal byte[] BytesOf(int id)
    {
        if ((uint)id >= (uint)VocabSize)
            throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary [0, {VocabSize})");
        var token = _tokens[id];
        if (id == EosId)
            return Encoding.UTF8.GetBytes(token); // encoder.py decodes <|endoftext|> as its text
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
            bytes[i] = (byte)ByteLevelAlphabet.CharToByte(token[i]);
        return bytes;
    }

    private static string[] ReadVocab(string path)
    {
        if (Model.RegularFile.Problem(path) is string problem)
            throw new TokenizerFormatException(path, problem);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowDuplicateProperties = false });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new TokenizerFormatException(path, "expected a JSON object of token → id");
            var byId = new Dictionary<int, string>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (!byId.TryAdd(entry.Value.GetInt32(), entry.Name))
                    throw new TokenizerFormatException(path, $"id {entry.Value.GetInt32()} is used twice");
                if (entry.Name != EndOfText && entry.Name.Any(c => ByteLevelAlphabet.CharToByte(c) < 0))
                    throw new TokenizerFormatException(path, $"token '{entry.Name}' has a character that stands for no byte; not a byte-level vocabulary");
            }
            var tokens = new string[byId.Count];
            foreach (var (id, text) in byId)
            {
                if (id < 0 || id >= tokens.Length)
                    throw new TokenizerFormatException(path, $"token ids are not dense: id {id} with {tokens.Length} tokens");
                tokens[id] = text;
            }
            return tokens;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            throw new TokenizerFormatException(path, $"cannot read the GPT-2 vocabulary ({e.Message})", e);
        }
    }

    private static List<(string, string)> ReadMerges(string path)
    {
        if (Model.RegularFile.Problem(path) is string problem)
            throw new TokenizerFormatException(path, problem);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot read the merges ({e.Message})", e);
        }
        var merges = new List<(string, string)>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || (i == 0 && lines[i].StartsWith("#version", StringComparison.Ordinal)))
                continue;
            var parts = lines[i].Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new TokenizerFormatException(path, $"line {i + 1} is \"{lines[i]}\", expected two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }
}
