using Mistral.Cli.Commands;
using Mistral.Cli.Console;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Cli.Tests.Commands;

/// <summary>demo, chat and bench on the tiny fixture model: they run, print what they promise, and exit 0.</summary>
public sealed class DemoChatBenchCommandTests
{
    /// <summary>Runs on the CPU reference explicitly (the default, auto, would add a note about the missing GPU).</summary>
    private static CliResult Run(params string[] args) => CliRunner.Run(args.Contains("--device") ? args : [.. args, "--device", "cpu"]);

    [Fact]
    public void Demo_PrintsEachPromptWithItsGreedyContinuation()
    {
        var run = Run("demo", Fixtures.TinyNative);
        Assert.True(run.ExitCode == 0, run.ToString());
        var blocks = run.Out.Split("=====================\n");
        Assert.Equal(4, blocks.Length); // three blocks and what follows the last separator
        Assert.Equal("", blocks[3]);

        // The reference's demo(): 35 greedy tokens for each prompt, batched; its printout decodes prompt + continuation.
        using var ops = new CpuOps();
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        var tokenizer = model.RequireTokenizer();
        var prompts = DemoCommand.Prompts.Select(p => tokenizer.Encode(p, bos: true)).ToArray();
        var result = new Generator(model.Model).Generate(prompts, new GenerationOptions { MaxTokens = 35 });
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(35, result.Sequences[i].Tokens.Length);
            Assert.StartsWith(DemoCommand.Prompts[i].TrimEnd(), blocks[i]);
            Assert.Equal(tokenizer.Decode([.. prompts[i], .. result.Sequences[i].Tokens]) + "\n", blocks[i]);
        }
    }

    [Fact]
    public void Chat_AnswersEveryLine_AndKeepsTheConversation()
    {
        var run = CliRunner.RunWithInput("hello there\n\nand again\n", "chat", Fixtures.TinyNative, "-t", "0", "-n", "5", "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.ErrLines.Length);                      // one timing line per answered message
        Assert.Matches(@"^prompt: \d+ tokens", run.ErrLines[0]);
        // Turn 2 re-reads turn 1 in [INST] format: BOS [INST] hello there [/INST] answer EOS [INST] and again [/INST].
        int first = int.Parse(System.Text.RegularExpressions.Regex.Match(run.ErrLines[0], @"^prompt: (\d+)").Groups[1].Value);
        int second = int.Parse(System.Text.RegularExpressions.Regex.Match(run.ErrLines[1], @"^prompt: (\d+)").Groups[1].Value);
        using var ops = new CpuOps();
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        var tokenizer = model.RequireTokenizer();
        Assert.Equal(1 + tokenizer.Encode("[INST] hello there [/INST]", bos: false).Length, first);
        Assert.True(second > first + tokenizer.Encode("[INST] and again [/INST]", bos: false).Length, $"turn 2 read {second} tokens");
    }

    [Theory]
    [InlineData("prefill", "pp 8")]
    [InlineData("decode", "tg 4")]
    public void Bench_PrintsALlamaBenchRow(string verb, string test)
    {
        var run = Run("bench", verb, Fixtures.TinyNative, "-n", test[3..], "-r", "1");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(3, run.OutLines.Length);
        Assert.Matches($@"^\| native\s+\|\s+4\.19 M \| cpu\s+\| {test}\s+\|\s+[\d.]+ ± \s*[\d.]+ \|$", run.OutLines[2]);
    }

    [Fact]
    public void Demo_UnknownDevice_Exit2()
    {
        var run = Run("demo", Fixtures.TinyNative, "--device", "tpu");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal("error: device 'tpu': unknown device (available: auto, cuda, emu, cpu)", Assert.Single(run.ErrLines));
    }
}
