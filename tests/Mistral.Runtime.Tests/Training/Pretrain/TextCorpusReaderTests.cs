using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Pretrain.Data;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class TextCorpusReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes)
    {
        File.WriteAllBytes(_dir.File(name), bytes);
        return _dir.File(name);
    }

    private string Write(string name, string text) => Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Read_Txt_OneDocumentPerBlankLineSeparatedBlock()
    {
        var file = Write("a.txt", "\uFEFFFirst line\r\nof one.\n\n  \n\nSecond\tblock.\n \n\nThird.");
        var corpus = TextCorpusReader.Read([file], 0);
        Assert.Equal(["First line\nof one.", "Second\tblock.", "Third."], corpus.Documents);
        Assert.Empty(corpus.BadLines);
        Assert.Equal(4, corpus.LineCount);
    }

    [Fact]
    public void Read_Jsonl_EmptyTextIsADocument_FilesInOrder()
    {
        var a = Write("a.jsonl", "{\"text\": \"one\"}\n\n{\"text\": \"\"}\n");
        var b = Write("b.txt", "two");
        Assert.Equal(["one", "", "two"], TextCorpusReader.Read([a, b], 0).Documents);
    }

    [Fact]
    public void Read_BadLines_CountedWithLineNumbers()
    {
        var lines = new List<byte[]>();
        for (int i = 0; i < 20; i++) lines.Add("{\"text\": \"ok\"}"u8.ToArray());
        lines[2] = "{\"text\": \"half"u8.ToArray();
        lines[5] = [(byte)'{', (byte)'"', (byte)'t', 0xC3, 0x28, (byte)'"', (byte)'}']; // 0xC3 0x28: invalid UTF-8
        lines[9] = "{\"body\": \"no text\"}"u8.ToArray();
        var file = Write("c.jsonl", lines.SelectMany(l => l.Append((byte)'\n')).ToArray());
        var corpus = TextCorpusReader.Read([file], maxBadFraction: 0.2);
        Assert.Equal(17, corpus.Documents.Count);
        Assert.Equal(20, corpus.LineCount);
        Assert.Equal([3, 6, 10], corpus.BadLines.Select(b => b.Line));
        Assert.Contains("not valid JSON", corpus.BadLines[0].Problem);
        Assert.Equal("not valid UTF-8", corpus.BadLines[1].Problem);
        Assert.Contains("\"text\"", corpus.BadLines[2].Problem);
    }

    [Fact]
    public void Read_InvalidUtf8InTxt_LineSkippedAndCounted()
    {
        var file = Write("d.txt", [.. "good\n"u8, 0xFF, .. "bad\ngood too\n"u8]);
        var corpus = TextCorpusReader.Read([file], maxBadFraction: 0.5);
        Assert.Equal(["good\ngood too"], corpus.Documents);
        Assert.Equal(new BadLine(file, 2, "not valid UTF-8"), Assert.Single(corpus.BadLines));
    }

    [Fact]
    public void Read_TooManyBadLines_StopsQuotingTheFirstFew()
    {
        var file = Write("e.jsonl", string.Join('\n', Enumerable.Range(0, 10).Select(i => i < 7 ? "nope" + i : "{\"text\": \"x\"}")));
        var e = Assert.Throws<DataFormatException>(() => TextCorpusReader.Read([file], maxBadFraction: 0.5));
        Assert.Contains("7 of 10 lines are bad", e.Message);
        Assert.Contains("e.jsonl:1:", e.Message);
        Assert.Contains("e.jsonl:5:", e.Message);
        Assert.DoesNotContain("e.jsonl:6:", e.Message); // only the first JsonlDataset.BadLinesShown are quoted
    }
}
