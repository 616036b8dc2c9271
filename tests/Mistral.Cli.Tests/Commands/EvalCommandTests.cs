using System.Text.Json;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// `mistral-cu eval` on tiny-gpt2 (cpu): figures against the reference logits of its forward and greedy runs, and
/// every bad input as one line and exit 2 before any output.
/// </summary>
public sealed class EvalCommandTests : IDisposable
{
    private const int Vocab = 50257;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mistral-cu-tests", Guid.NewGuid().ToString("N"));

    public EvalCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Data_OneWindow_JsonLossIsTheReferenceMeanCe()
    {
        // Prompt 2 of reference/forward.safetensors is this text (9 tokens); one window scores its 8 targets.
        var tokens = ReferenceTensors.Ints(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt2.tokens");
        var ce = ReferenceCe.FromLogits(ReferenceTensors.Floats(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt2.logits"), tokens, Vocab);
        var json = RunJson("--data", Write("valid.txt", "After the long winter, the farmers gathered."));
        Assert.Equal(9, json.GetProperty("tokens").GetInt32());
        Assert.Equal(64, json.GetProperty("max_length").GetInt32());            // n_positions
        Assert.Equal(8, json.GetProperty("tokens_scored").GetInt32());
        double loss = json.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(loss - ce.Average()) <= ReferenceCe.LogitsTolerance, $"loss {loss} vs reference {ce.Average()}");
        Assert.Equal(Math.Exp(loss), json.GetProperty("perplexity").GetDouble(), 1e-9 * Math.Exp(loss));
    }

    [Fact]
    public void Data_StrideBelowWindow_ScoresEveryTokenOnce()
    {
        var json = RunJson("--data", Write("valid.txt", "After the long winter, the farmers gathered."), "--max-length", "4", "--stride", "2");
        Assert.Equal(4, json.GetProperty("windows").GetInt32());              // [0,4) [2,6) [4,8) [6,9): each reads all but its last token
        Assert.Equal(8, json.GetProperty("tokens_scored").GetInt32());
        Assert.Equal(3 + 3 + 3 + 2, json.GetProperty("tokens_forwarded").GetInt32());
    }

    [Fact]
    public void Data_Text_PrintsTokensLossAndPerplexity()
    {
        var run = Run("--data", Write("valid.txt", "After the long winter, the farmers gathered."));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.OutLines, l => l.StartsWith("tokens scored  8", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("perplexity", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("tokens/s", StringComparison.Ordinal));
    }

    [Fact]
    public void Lambada_GreedyAndReferenceTargets_AccuracyAndLossFromTheReference()
    {
        // Line 1: the reference's greedy continuation of prompt 0 (" marks" twice), correct by construction, with its
        // chosen_logprobs. Line 2: " woke" after "The lighthouse keeper", judged by the reference logits row 2.
        var chosen = ReferenceTensors.Floats(Fixtures.TinyGpt2Reference, "greedy.safetensors", "chosen_logprobs");
        var tokens = ReferenceTensors.Ints(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt0.tokens");
        var logits = ReferenceTensors.Floats(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt0.logits");
        double wokeCe = ReferenceCe.FromLogits(logits, tokens, Vocab)[2];
        int correct = 1 + (ReferenceCe.IsArgmax(logits, tokens, Vocab)[2] ? 1 : 0);
        var file = Write("lambada.jsonl",
            "{\"context\": \"The lighthouse keeper woke\", \"target\": \"marks marks\"}\n{\"context\": \"The lighthouse keeper\", \"target\": \"woke\"}\n");

        var json = RunJson("--lambada", file);
        Assert.Equal(2, json.GetProperty("examples").GetInt32());
        Assert.Equal(correct, json.GetProperty("correct").GetInt32());
        Assert.Equal(3, json.GetProperty("target_tokens").GetInt32());
        double expected = (-(double)chosen[0] - chosen[1] + wokeCe) / 3;
        double loss = json.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(loss - expected) <= ReferenceCe.LogitsTolerance, $"loss {loss} vs reference {expected}");
    }

    [Fact]
    public void Data_MissingFile_NamesItExit2()
    {
        var missing = Path.Combine(_dir, "nope.txt");
        AssertOneError(Run("--data", missing), $"{missing}: file not found");
    }

    [Fact]
    public void Data_EmptyFile_SaysSoExit2()
    {
        var empty = Write("empty.txt", "\n\n");
        AssertOneError(Run("--data", empty), $"{empty}: the file is empty");
    }

    [Fact]
    public void Data_OneToken_SaysThereIsNothingToScoreExit2() =>
        AssertOneError(Run("--data", Write("one.txt", "Hello")), "perplexity needs at least 2");

    [Theory]
    [InlineData("0", null, "--stride 0 must be a positive number")]
    [InlineData("-3", null, "--stride -3 must be a positive number")]
    [InlineData("40", "32", "--stride 40 is larger than --max-length 32")]
    [InlineData(null, "100", "--max-length 100 is beyond the model's 64 positions (n_positions)")]
    [InlineData(null, "1", "--max-length 1 is too short")]
    public void Data_BadWindow_NamesTheOptionExit2(string? stride, string? maxLength, string expected)
    {
        string[] args = ["--data", Write("valid.txt", "Rain fell softly on the roof.")];
        if (stride is not null) args = [.. args, "--stride", stride];
        if (maxLength is not null) args = [.. args, "--max-length", maxLength];
        AssertOneError(Run(args), expected);
    }

    [Fact]
    public void NeitherDataNorLambada_SaysWhichToGiveExit2() =>
        AssertOneError(Run(), "give exactly one of --data FILE or --lambada FILE");

    [Fact]
    public void Lambada_BadLines_NameFileAndLineExit2()
    {
        var file = Write("lambada.jsonl", "{\"context\": \"a b\", \"target\": \"c\"}\n{\"context\": \"a b\"}\n[1]\n");
        AssertOneError(Run("--lambada", file), $"{file}: 2 of 3 lines are bad: lambada.jsonl:2: expected a \"target\" string; lambada.jsonl:3: expected a JSON object");
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static CliResult Run(params string[] args) => CliRunner.Run(["eval", Fixtures.TinyGpt2Hf, .. args, "--device", "cpu"]);

    private static JsonElement RunJson(params string[] args)
    {
        var run = Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Out).RootElement.Clone();
    }

    private static void AssertOneError(CliResult run, string expected)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.Out);
        var line = Assert.Single(run.ErrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
    }
}
