using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`mistral-cu tokenize`, run in-process on the Mistral 7B tokenizer fixture; ids come from cases.jsonl.</summary>
public sealed class TokenizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mistral-cli-tok-").FullName;
    private static string ModelDir => Fixtures.MistralTokenizer;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Text_WithBos_PrintsIdsOnOneLine()
    {
        var (code, stdout, stderr) = Run("tokenize", ModelDir, "--text", "Hello world!", "--bos");
        Assert.Equal(0, code);
        Assert.Equal("1 22557 1526 28808\n", stdout); // cases.jsonl
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Text_Default_FollowsTheTokenizersBosConvention()
    {
        // Mistral's SentencePiece model starts a text with BOS, as HF's tokenizer and llama.cpp do; --no-bos leaves it out.
        Assert.Equal((0, "1 22557 1526 28808\n", ""), Run("tokenize", ModelDir, "--text", "Hello world!"));
        Assert.Equal((0, "22557 1526 28808\n", ""), Run("tokenize", ModelDir, "--text", "Hello world!", "--no-bos"));
        Assert.Equal(ExitCodes.BadInput, Run("tokenize", ModelDir, "--text", "x", "--bos", "--no-bos").Item1);
    }

    [Fact]
    public void Text_JsonFileAndJsonOutput_PrintsRecord()
    {
        var json = Path.Combine(ModelDir, "tokenizer.json");
        var (code, stdout, _) = Run("tokenize", json, "--text", "hello ", "--json", "--no-bos");
        Assert.Equal(0, code);
        Assert.Equal("{\"text\":\"hello \",\"ids\":[6312,28709,28705]}\n", stdout); // cases.jsonl, add_bos false
    }

    [Fact]
    public void Jsonl_EveryPublicCase_WritesExpectedIds()
    {
        // Feed the Mistral cases that use BOS as a dataset; each output line must carry the reference ids.
        var cases = TokenizerCase.Load(ModelDir).Where(c => c.AddBos).ToList();
        var input = Path.Combine(_dir, "data.jsonl");
        File.WriteAllLines(input, cases.Select(c => JsonSerializer.Serialize(new { text = c.Text, other = 1 })).Append(""));
        var output = Path.Combine(_dir, "out.jsonl");

        var (code, stdout, stderr) = Run("tokenize", ModelDir, "--jsonl", input, "--bos", "--output", output);
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Equal($"tokenized {cases.Count} lines, {cases.Sum(c => c.Ids.Length)} tokens\n", stderr);
        var lines = File.ReadAllLines(output);
        Assert.Equal(cases.Count, lines.Length);
        for (var i = 0; i < cases.Count; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(cases[i].Text, doc.RootElement.GetProperty("text").GetString());
            Assert.Equal(cases[i].Ids, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        }
    }

    [Fact]
    public void Jsonl_InvalidUtf8Line_IsAnErrorNamingTheLine()
    {
        var input = Path.Combine(_dir, "latin1.jsonl");
        File.WriteAllBytes(input, [.. "{\"text\": \"ok\"}\n{\"text\": \"caf"u8, 0xE9, .. "\"}\n"u8]);
        var (code, stdout, stderr) = Run("tokenize", ModelDir, "--jsonl", input);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"error: {input}:2: not valid UTF-8\n", stderr);
    }

    [Fact]
    public void Decode_IdsInEitherSpelling_PrintsText()
    {
        Assert.Equal((0, "Hello world!\n", ""), Run("tokenize", ModelDir, "--decode", "1 22557 1526 28808"));
        Assert.Equal((0, "Hello world!\n", ""), Run("tokenize", ModelDir, "--decode", "[1, 22557, 1526, 28808]"));
    }

    [Theory]
    [InlineData("missing-dir", "--text", "x")]
    [InlineData(null, "--text", "x", "--decode", "1")]
    [InlineData(null)]
    [InlineData(null, "--decode", "1 two")]
    [InlineData(null, "--decode", "99999")]
    [InlineData(null, "--jsonl", "missing.jsonl")]
    public void BadInput_ExitCode2AndOneLine(string? path, params string[] rest)
    {
        path = path is null ? ModelDir : Path.Combine(_dir, path);
        rest = rest.Select(a => a.EndsWith(".jsonl", StringComparison.Ordinal) ? Path.Combine(_dir, a) : a).ToArray();
        var (code, stdout, stderr) = Run(["tokenize", path, .. rest]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Equal(1, stderr.Count(c => c == '\n'));
    }

    [Fact]
    public void Jsonl_LineWithoutText_NamesFileAndLine()
    {
        var input = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"ok\"}", "{\"prompt\": \"no text\"}"]);
        var (code, _, stderr) = Run("tokenize", ModelDir, "--jsonl", input);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"{input}:2: expected an object with a string field \"text\"", stderr);
    }

    [Fact]
    public void CorruptTokenizer_ErrorNamesTheFile()
    {
        var model = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllBytes(model, File.ReadAllBytes(Path.Combine(ModelDir, "tokenizer.model"))[..1000]);
        var (code, _, stderr) = Run("tokenize", _dir, "--text", "x");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith($"error: {model}: ", stderr);
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var result = CliRunner.Run(args);
        return (result.ExitCode, result.Out, result.Err);
    }
}
