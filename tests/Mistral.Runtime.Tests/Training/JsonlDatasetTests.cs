using Mistral.Runtime.Training.Data;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class JsonlDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jsonl-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Load_InstructLines_ReadsTurnsAndSkipsBlankLines()
    {
        var f = Write("a.jsonl",
            """{"interactions": [{"is_user": true, "text": "hi"}, {"is_user": false, "text": "hello"}]}""",
            "",
            """{"interactions": [{"is_user": false, "text": "solo"}], "extra": 1}""");
        var ds = JsonlDataset.Load([f], instruct: true, maxBadFraction: 0);
        Assert.Equal(2, ds.Documents.Count);
        Assert.Equal(2, ds.LineCount);
        Assert.Equal([new Interaction(true, "hi"), new Interaction(false, "hello")], ds.Documents[0].Interactions);
        Assert.Empty(ds.BadLines);
    }

    [Fact]
    public void Load_InvalidUtf8_IsABadLineWithItsNumber_NotReplacementCharacters()
    {
        var path = Path.Combine(_dir, "u.jsonl");
        var good = "{\"text\": \"caf\u00e9 ok\"}\n"u8.ToArray();
        byte[] bad = [.. "{\"text\": \"caf"u8, 0xE9, .. " latin-1\"}\r\n"u8]; // é in Latin-1: not UTF-8
        File.WriteAllBytes(path, [.. Enumerable.Repeat(good, 9).SelectMany(b => b), .. bad, .. good]);
        var ds = JsonlDataset.Load([path], instruct: false, maxBadFraction: 0.5);
        Assert.Equal(10, ds.Documents.Count);
        Assert.Equal(11, ds.LineCount);
        var line = Assert.Single(ds.BadLines);
        Assert.Equal(new BadLine(path, 10, "not valid UTF-8"), line);
        Assert.DoesNotContain(ds.Documents, d => d.Text!.Contains('\uFFFD'));
    }

    [Fact]
    public void Load_BadLinesUnderTheShare_AreCountedWithLineNumbers()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $"{{\"text\": \"doc {i}\"}}").ToList();
        lines[3] = "{\"text\": 5}";
        lines.Insert(7, "not json");
        var f = Write("p.jsonl", [.. lines]);
        var ds = JsonlDataset.Load([f], instruct: false, maxBadFraction: 0.2);
        Assert.Equal(9, ds.Documents.Count);
        Assert.Equal([4, 8], ds.BadLines.Select(b => b.Line));
        Assert.Contains("\"text\" string", ds.BadLines[0].Problem);
        Assert.Contains("not valid JSON", ds.BadLines[1].Problem);
        Assert.Equal("p.jsonl:4: expected a \"text\" string", ds.BadLines[0].ToString());
    }

    [Fact]
    public void Load_TooManyBadLines_StopsNamingFileAndLines()
    {
        var f = Write("bad.jsonl", """{"text": "ok"}""", """{"interactions": []}""", "[1, 2]");
        var e = Assert.Throws<DataFormatException>(() => JsonlDataset.Load([f], instruct: false, maxBadFraction: 0.5));
        Assert.Equal(f, e.File);
        Assert.Contains("2 of 3 lines are bad", e.Message);
        Assert.Contains("bad.jsonl:2:", e.Message);
        Assert.Contains("bad.jsonl:3: expected a JSON object", e.Message);
    }

    [Theory]
    [InlineData("""{"interactions": [{"is_user": true, "text": "only the user"}]}""", "no non-empty non-user turn")]
    [InlineData("""{"interactions": [{"is_user": "yes", "text": "x"}]}""", "interactions[0]")]
    [InlineData("""{"text": "pretrain line in an instruct file"}""", "\"interactions\" list")]
    public void ParseLine_BadInstructShapes(string line, string fragment)
    {
        var (doc, problem) = JsonlDataset.ParseLine(line, instruct: true);
        Assert.Null(doc);
        Assert.Contains(fragment, problem);
    }

    [Fact]
    public void Load_MissingFile_NamesIt()
    {
        var missing = Path.Combine(_dir, "nope.jsonl");
        Assert.Equal(missing, Assert.Throws<DataFormatException>(() => JsonlDataset.Load([missing], false, 0)).File);
    }
}
