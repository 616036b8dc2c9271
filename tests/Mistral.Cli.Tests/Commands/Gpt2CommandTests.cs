using System.Text.Json;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>The verbs on a GPT-2 directory (tests/fixtures/tiny-gpt2/hf: random weights, the real 50257-token vocabulary).</summary>
public sealed class Gpt2CommandTests
{
    private static CliResult Run(params string[] args) => CliRunner.Run([.. args, "--device", "cpu"]);

    [Fact]
    public void Generate_Greedy_StreamsTheReferenceTokensWithoutABosPrefix()
    {
        // greedy.safetensors: prompt 0 ("The lighthouse keeper woke", 4 tokens, no <|endoftext|> first) continues with
        // the fixture's generated ids; the first five are compared here through the CLI.
        var run = Run("generate", Fixtures.TinyGpt2Hf, "--prompt", "The lighthouse keeper woke", "--temperature", "0", "--max-tokens", "5", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        int[] promptIds = [.. json.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32())];
        int[] ids = [.. json.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
        using var reference = Mistral.Runtime.Model.SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Reference, "greedy.safetensors"));
        Assert.Equal(reference.Get("prompt0.tokens").ToInt64().Select(t => (int)t), promptIds);
        Assert.Equal(reference.Get("generated").ToInt64().Take(5).Select(t => (int)t), ids);
    }

    [Fact]
    public void Generate_Default_StreamsTextWithinTheContext()
    {
        var run = Run("generate", Fixtures.TinyGpt2Hf, "--prompt", "Hello", "--seed", "7");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("Hello", run.Out);
        Assert.True(run.Out.Length > "Hello".Length + 10, run.ToString());
    }

    [Fact]
    public void Generate_PastNPositions_Exit2BeforeAnyOutput()
    {
        var run = Run("generate", Fixtures.TinyGpt2Hf, "--prompt", "Hello", "--max-tokens", "100");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        var error = Assert.Single(run.ErrLines);
        Assert.Contains("101 positions", error);
        Assert.Contains("64 positions (n_positions)", error);
    }

    [Fact]
    public void Chat_ModelWithoutAChatTemplate_SaysSoAndExits2()
    {
        var run = CliRunner.RunWithInput("hello\n", "chat", Fixtures.TinyGpt2Hf, "--device", "cpu");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no chat template", run.Err);
    }

    [Fact]
    public void Info_PrintsTheFamilyAndTheContext()
    {
        var run = CliRunner.Run("info", Fixtures.TinyGpt2Hf);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.OutLines, l => l == "family          gpt2");
        Assert.Contains(run.OutLines, l => l == "context         64 positions (n_positions)");
        Assert.Contains(run.OutLines, l => l == "parameters      811,728 (811.73 K)");
    }

    [Fact]
    public void Parity_TinyGpt2_PassesEveryCaseIncludingFullTrain()
    {
        var run = Run("parity", Fixtures.TinyGpt2);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.OutLines, l => l.StartsWith("PASS  full_train", StringComparison.Ordinal));
        Assert.Contains("5 passed, 0 failed, 0 skipped", run.Out);
    }
}
