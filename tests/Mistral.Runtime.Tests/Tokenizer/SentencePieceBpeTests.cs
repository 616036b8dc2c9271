using System.Text;
using Mistral.Runtime.Tokenizer;
using Xunit;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>
/// Encoding and decoding against the ids real SentencePiece produced (tests/fixtures/tokenizers/mistral/cases.jsonl),
/// for tokenizer.model (score merges) and tokenizer.json (merge ranks).
/// </summary>
public sealed class SentencePieceBpeTests
{
    public static TheoryData<string> Files => MistralTokenizers.Files;

    [Theory]
    [MemberData(nameof(Files))]
    public void Encode_PublicCases_MatchSentencePiece(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        var failures = new StringBuilder();
        foreach (var c in MistralTokenizers.Cases)
        {
            var actual = tokenizer.Encode(c.Text, bos: c.AddBos);
            if (!actual.SequenceEqual(c.Ids))
                failures.Append($"{c.Label}\n  expected [{string.Join(' ', c.Ids)}]\n  actual   [{string.Join(' ', actual)}]\n");
        }
        Assert.True(failures.Length == 0, $"{file}: cases that differ from SentencePiece:\n{failures}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Decode_PublicCaseIds_GivesBackText(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        var failures = new StringBuilder();
        foreach (var c in MistralTokenizers.Cases)
        {
            var text = tokenizer.Decode(c.Ids);
            if (text != c.Text)
                failures.Append($"{c.Label}\n  decoded {System.Text.Json.JsonSerializer.Serialize(text)}\n");
        }
        Assert.True(failures.Length == 0, $"{file}: decode(ids) != text:\n{failures}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_MistralFiles_HaveMistralVocabularyAndSpecialIds(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        Assert.Equal(32000, tokenizer.VocabSize);
        Assert.Equal((0, 1, 2), (tokenizer.UnkId, tokenizer.BosId, tokenizer.EosId));
        Assert.Equal("<s>", tokenizer.IdToPiece(1));
        Assert.Equal("<0x0A>", tokenizer.IdToPiece(13));   // README: pieces 3..258 are <0x00>..<0xFF>
        Assert.Equal("\u2581", tokenizer.IdToPiece(28705));
        Assert.Equal("\r", tokenizer.IdToPiece(28801));     // README: '\r' is a piece, unlike '\n' and '\t'
        Assert.Equal(PieceType.Byte, tokenizer.TypeOf(258));
        Assert.Equal(PieceType.Normal, tokenizer.TypeOf(259));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.IdToPiece(32000));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Encode_ControlTokenTextInsidePrompt_StaysPlainCharacters(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        var ids = tokenizer.Encode("<s>hi</s>", bos: false);
        Assert.DoesNotContain(1, ids);
        Assert.DoesNotContain(2, ids);
        Assert.Equal("<s>hi</s>", tokenizer.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Encode_BosAndEos_AreAddedOnlyWhenAsked(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        Assert.Equal([1], tokenizer.Encode("", bos: true));
        Assert.Equal([1, 2], tokenizer.Encode("", bos: true, eos: true));
        Assert.Empty(tokenizer.Encode("", bos: false));
        Assert.Equal([22557, 1526, 28808, 2], tokenizer.Encode("Hello world!", bos: false, eos: true)); // ids from cases.jsonl
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Decode_ControlTokensAnywhere_AreSkipped(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        // "Hello world!" = 22557 1526 28808 (cases.jsonl); BOS/EOS in the middle add nothing and do not end the text.
        Assert.Equal("Hello world!", tokenizer.Decode([1, 22557, 2, 1526, 1, 28808, 2]));
    }

    [Fact]
    public void Decode_UnknownToken_IsSentencePieceUnknownSurface()
    {
        var tokenizer = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        Assert.Equal("a \u2047 ", tokenizer.Decode([264, 0])); // trainer_spec.unk_surface of the real file
    }

    [Fact]
    public void Encode_ModelAndJson_AgreeOnMixedScriptTexts()
    {
        // The two files merge by different rules (piece scores vs merge ranks); the README states they agree on
        // 5,600 random texts. Texts here mix the cases' alphabets, spaces and byte-fallback characters.
        var model = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        var json = MistralTokenizers.Get(MistralTokenizers.JsonFile);
        var alphabet = string.Concat(MistralTokenizers.Cases.Select(c => c.Text)).EnumerateRunes().Distinct().ToArray();
        var random = new Random(1234);
        for (var i = 0; i < 300; i++)
        {
            var text = new StringBuilder();
            var length = random.Next(1, 40);
            for (var j = 0; j < length; j++)
                text.Append(random.Next(4) == 0 ? " " : alphabet[random.Next(alphabet.Length)].ToString());
            var s = text.ToString();
            Assert.True(model.Encode(s, bos: true).SequenceEqual(json.Encode(s, bos: true)),
                $"tokenizer.model and tokenizer.json differ on {System.Text.Json.JsonSerializer.Serialize(s)}");
            Assert.Equal(s, model.Decode(model.Encode(s, bos: true)));
        }
    }

    [Fact]
    public void Encode_LongRepetitiveWord_KeepsTheReferencePattern()
    {
        // 'ha' × 200 from cases.jsonl is [BOS, '▁h', 'ah' × 198, 'aha']: every inner pair merges the same way, so
        // 'ha' × 20,000 must be '▁h', 'ah' × 19,998, 'aha'. A quadratic merge loop would make this slow; a slip in
        // the leftmost-first tie rule would shift the pattern.
        var tokenizer = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        var c = MistralTokenizers.Cases.Single(x => x.Text.StartsWith("hahaha", StringComparison.Ordinal));
        Assert.Equal([295, 12980], new[] { c.Ids[1], c.Ids[^1] });
        Assert.All(c.Ids[2..^1], id => Assert.Equal(912, id));

        var ids = tokenizer.Encode(string.Concat(Enumerable.Repeat("ha", 20_000)), bos: false);
        int[] expected = [295, .. Enumerable.Repeat(912, 19_998), 12980];
        Assert.Equal(expected, ids);
    }
}
