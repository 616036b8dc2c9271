using System.Text;
using Mistral.Runtime.Tokenizer;
using Xunit;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>Streaming decode: same text as full decode, never half a character, byte runs held back until complete.</summary>
public sealed class StreamingDecoderTests
{
    public static TheoryData<string> Files => MistralTokenizers.Files;

    [Theory]
    [MemberData(nameof(Files))]
    public void Push_PublicCasesOneIdAtATime_ConcatenatesToTextWithoutBrokenCharacters(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        foreach (var c in MistralTokenizers.Cases)
        {
            var decoder = tokenizer.CreateStreamingDecoder();
            var text = new StringBuilder();
            foreach (var id in c.Ids)
            {
                var delta = decoder.Push(id);
                Assert.False(delta.Contains('\uFFFD'), $"{c.Label}: replacement character after id {id}");
                Assert.True(IsWellFormed(delta), $"{c.Label}: unpaired surrogate in delta after id {id}");
                text.Append(delta);
            }
            text.Append(decoder.Flush());
            Assert.True(c.Text == text.ToString(), $"{c.Label}: streamed {System.Text.Json.JsonSerializer.Serialize(text.ToString())}");
        }
    }

    [Fact]
    public void Push_EmojiBytes_HoldsThemUntilTheCharacterIsComplete()
    {
        // '🦙' is U+1F999 = F0 9F A6 99 → byte pieces 3 + byte = 243 162 169 156 (cases.jsonl).
        var decoder = MistralTokenizers.Get(MistralTokenizers.ModelFile).CreateStreamingDecoder();
        Assert.Equal("", decoder.Push(1));
        Assert.Equal("", decoder.Push(28705));   // the dummy-prefix '▁' alone: stripped
        Assert.Equal("", decoder.Push(243));
        Assert.Equal("", decoder.Push(162));
        Assert.Equal("", decoder.Push(169));
        Assert.Equal("🦙", decoder.Push(156));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Push_SpaceAfterByteCharacter_IsNotStripped()
    {
        // Once any text was produced, a later '▁' piece is a real space: '\n' then ' a' → "\n a".
        var tokenizer = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal("\n", decoder.Push(13));
        Assert.Equal(" a", decoder.Push(264));   // 264 = '▁a' (cases.jsonl: "a" → [1, 264])
        Assert.Equal("\n a", tokenizer.Decode([13, 264]));
    }

    [Fact]
    public void Decode_InvalidAndTruncatedBytes_BecomeOneReplacementPerByte()
    {
        // SentencePiece maps each byte that does not start a valid sequence to U+FFFD. E2 82 AC is '€'.
        var tokenizer = MistralTokenizers.Get(MistralTokenizers.ModelFile);
        int Byte(int value) => 3 + value;
        Assert.Equal("€", tokenizer.Decode([Byte(0xE2), Byte(0x82), Byte(0xAC)]));
        Assert.Equal("\uFFFD\uFFFD a", tokenizer.Decode([Byte(0xE2), Byte(0x82), 264])); // text came first: space kept
        Assert.Equal("\uFFFD€", tokenizer.Decode([Byte(0xAC), Byte(0xE2), Byte(0x82), Byte(0xAC)]));
        Assert.Equal("\uFFFD\uFFFD", tokenizer.Decode([Byte(0xC0), Byte(0x80)]));     // overlong NUL
        Assert.Equal("\uFFFD\uFFFD\uFFFD", tokenizer.Decode([Byte(0xED), Byte(0xA0), Byte(0x80)])); // a surrogate

        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Push(Byte(0xE2)));
        Assert.Equal("\uFFFDA", decoder.Push(Byte(0x41))); // E2 cannot continue with 'A': both are decided now
        Assert.Equal("", decoder.Push(Byte(0xF0)));
        Assert.Equal("\uFFFD", decoder.Flush());           // a sequence cut off at the end of the stream
    }

    [Fact]
    public void Push_IdOutsideVocabulary_Throws()
    {
        var decoder = MistralTokenizers.Get(MistralTokenizers.ModelFile).CreateStreamingDecoder();
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Push(32000));
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Push(-1));
    }

    private static bool IsWellFormed(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[++i])))
                return false;
            if (char.IsLowSurrogate(s[i]) && (i == 0 || !char.IsHighSurrogate(s[i - 1])))
                return false;
        }
        return true;
    }
}
