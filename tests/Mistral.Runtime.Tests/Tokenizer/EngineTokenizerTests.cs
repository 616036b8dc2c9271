using System.Buffers;
using Microsoft.ML.Tokenizers;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>
/// Our tokenizers through Microsoft.ML.Tokenizers' Tokenizer API (what .NET users call), and the library's own
/// TiktokenTokenizer for gpt2, which is exact, as a second opinion on our GPT-2 byte-level BPE.
/// </summary>
public sealed class EngineTokenizerTests
{
    private static string Gpt2Dir => Path.Combine(Fixtures.Root, "tokenizers", "gpt2");

    /// <summary>
    /// Awkward inputs beyond cases.jsonl: runs of spaces, digits, contractions, newlines, emoji, accents, CJK. Not
    /// "&lt;|endoftext|&gt;" inside text: tiktoken reads it as the control id, ours as characters (ITokenizer: text is text).
    /// </summary>
    private static readonly string[] Awkward =
    [
        "", " ", "  ", " x" + new string(' ', 17) + "x", new string('a', 300), "Hello world!", "I'm it's we'll they've",
        "1234567890 3.14159 -42", "line one\nline two\r\n\ttabbed", "emoji 😀🎉 and flags 🇫🇷", "café naïve Ångström",
        "日本語のテキスト", "mixed\u00a0nbsp and\u200bzero width", "   leading and trailing   ",
    ];

    [Fact]
    public void Gpt2_EveryCaseAndAwkwardInput_MatchesTiktokenTokenizer()
    {
        var ours = (Microsoft.ML.Tokenizers.Tokenizer)TokenizerFiles.Load(Path.Combine(Gpt2Dir, "vocab.json"));
        var tiktoken = TiktokenTokenizer.CreateForModel("gpt2");
        var texts = TokenizerCase.Load(Gpt2Dir).Select(c => c.Text).Concat(Awkward).ToList();
        foreach (var text in texts)
        {
            var expected = tiktoken.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true);
            Assert.True(expected.SequenceEqual(ours.EncodeToIds(text)), $"'{text}': tiktoken [{string.Join(' ', expected)}], ours [{string.Join(' ', ours.EncodeToIds(text))}]");
            Assert.Equal(tiktoken.Decode(expected), ours.Decode(expected));
        }
    }

    [Fact]
    public void Mistral_LibraryApi_GivesTheReferenceIdsWithoutBos()
    {
        Microsoft.ML.Tokenizers.Tokenizer tokenizer = TokenizerFiles.LoadSentencePiece(Fixtures.MistralTokenizer);
        foreach (var c in TokenizerCase.Load(Fixtures.MistralTokenizer))
        {
            var ids = c.AddBos ? c.Ids[1..] : c.Ids; // the library's calls have no BOS switch: they add none
            Assert.Equal(ids, tokenizer.EncodeToIds(c.Text));
            Assert.Equal(ids.Length, tokenizer.CountTokens(c.Text));
            var tokens = tokenizer.EncodeToTokens(c.Text, out _);
            Assert.Equal(ids, tokens.Select(t => t.Id));
            Assert.Equal(((ITokenizer)tokenizer).Decode(ids), tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void Mistral_EncodeToTokens_OffsetsAreTheSpansEachIdDecodesTo()
    {
        Microsoft.ML.Tokenizers.Tokenizer tokenizer = TokenizerFiles.LoadSentencePiece(Fixtures.MistralTokenizer);
        var tokens = tokenizer.EncodeToTokens("Hello world!", out _);
        Assert.Equal([22557, 1526, 28808], tokens.Select(t => t.Id)); // cases.jsonl without BOS
        Assert.Equal(["▁Hello", "▁world", "!"], tokens.Select(t => t.Value));
        Assert.Equal([new Range(0, 5), new Range(5, 11), new Range(11, 12)], tokens.Select(t => t.Offset));
    }

    [Fact]
    public void Mistral_MaxTokenCount_KeepsThatManyIdsAndSaysHowMuchTextTheyCover()
    {
        Microsoft.ML.Tokenizers.Tokenizer tokenizer = TokenizerFiles.LoadSentencePiece(Fixtures.MistralTokenizer);
        var ids = tokenizer.EncodeToIds("Hello world!", maxTokenCount: 2, out _, out int consumed);
        Assert.Equal([22557, 1526], ids);
        Assert.Equal("Hello world".Length, consumed);
    }

    [Fact]
    public void Decode_IntoASmallBuffer_WritesWholeIdsAndSaysDestinationTooSmall()
    {
        Microsoft.ML.Tokenizers.Tokenizer tokenizer = TokenizerFiles.LoadSentencePiece(Fixtures.MistralTokenizer);
        Span<char> buffer = stackalloc char[8];
        var status = tokenizer.Decode([22557, 1526, 28808], buffer, out int idsConsumed, out int written);
        Assert.Equal(OperationStatus.DestinationTooSmall, status);
        Assert.Equal(1, idsConsumed);
        Assert.Equal("Hello", buffer[..written].ToString());
        Assert.Equal(OperationStatus.InvalidData, tokenizer.Decode([99999], buffer, out _, out _));
    }
}
