using System.Text;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Generation;

public class TextStreamsTests
{
    private static readonly ITokenizer Tokenizer = TokenizerFiles.Load(Fixtures.MistralTokenizer);

    /// <summary>Feeds ids one at a time; returns (text handed out, index of the id that stopped or -1, final text).</summary>
    private static (string Streamed, int StoppedAt, string Text) Feed(string text, params string[] stops)
    {
        var ids = Tokenizer.Encode(text, bos: false);
        var streamed = new StringBuilder();
        var streams = new TextStreams(Tokenizer, 1, stops, (_, delta) => streamed.Append(delta));
        int stoppedAt = -1;
        for (int i = 0; i < ids.Length && stoppedAt < 0; i++)
            if (!streams.OnToken(0, ids[i])) stoppedAt = i;
        streams.Finish();
        return (streamed.ToString(), stoppedAt, streams.Text(0));
    }

    [Theory]
    [InlineData()]
    [InlineData("zzz")]
    public void ByteFallbackCharacters_ArriveWhole(params string[] stops)
    {
        // 𝔘 is not in the vocabulary: it arrives as four <0xNN> byte tokens, the first three of which add no text.
        const string text = "Hello 𝔘 naïve café!";
        Assert.Contains(Tokenizer.Encode(text, bos: false), id => Tokenizer.IdToPiece(id).StartsWith("<0x", StringComparison.Ordinal));
        var (streamed, stoppedAt, decoded) = Feed(text, stops);
        Assert.Equal(-1, stoppedAt);
        Assert.Equal(text, decoded);
        Assert.Equal(text, streamed);
    }

    [Fact]
    public void StopString_CutsBeforeIt_AndNothingPastItIsEverHandedOut()
    {
        var (streamed, stoppedAt, text) = Feed("The answer is 42.\nUser: and then", "\nUser:");
        Assert.True(stoppedAt >= 0);
        Assert.Equal("The answer is 42.", text.TrimStart());
        Assert.Equal(text, streamed); // the held-back "\nUs…" never reached the terminal
    }

    [Fact]
    public void PartialStopString_IsReleasedWhenItTurnsOutNotToBeOne()
    {
        var (streamed, stoppedAt, text) = Feed("a\nUse the force", "\nUser:");
        Assert.Equal(-1, stoppedAt);
        Assert.Equal("a\nUse the force", text.TrimStart());
        Assert.Equal(text, streamed);
    }

    [Fact]
    public void EarliestOfSeveralStopStrings_Wins()
    {
        var (_, _, text) = Feed("one two three four", "four", "two");
        Assert.Equal("one ", text.TrimStart());
    }
}
