using System.Text.Json.Nodes;
using Mistral.Cli.Console;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`mistral-cu parity`: one line per case and the exit code contract (0 pass, 1 a case failed, 2 bad input).</summary>
public sealed class ParityCommandTests : IDisposable
{
    /// <summary>Runs on the CPU reference explicitly (the default, auto, would add a note about the missing GPU).</summary>
    private static CliResult Run(params string[] args) => CliRunner.Run(args.Contains("--device") ? args : [.. args, "--device", "cpu"]);

    private readonly string _temp = Directory.CreateTempSubdirectory("mistral-cli-parity-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void TinyFixture_AllSupportedCasesPass_Exit0()
    {
        var run = Run("parity", Fixtures.TinyMistral);
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.OutLines;
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^PASS\s+forward\s+forward\s+max_abs_diff \d\.\d\de-0\d\s+tol 1e-04\s+tokens equal", lines[0]);
        Assert.Matches(@"^PASS\s+forward_debug\s+intermediates\s", lines[1]);
        Assert.Matches(@"^PASS\s+greedy\s+greedy\s.*tokens equal", lines[2]);
        Assert.Matches(@"^PASS\s+lora_train\s+lora_train\s+max_abs_diff \d\.\d\de-0\d\s+tol 1e-05\s", lines[3]);
        Assert.Equal("4 passed, 0 failed, 0 skipped on cpu (F32)", lines[4]);
    }

    [Theory]
    [InlineData("hf")]
    [InlineData("native-pth")]
    public void ModelOption_OtherLayoutsPassTheSameCases(string layout)
    {
        var run = Run("parity", Fixtures.TinyMistral, "--model", Path.Combine(Fixtures.TinyMistral, layout), "--case", "greedy");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("PASS", run.OutLines[0]);
    }

    [Fact]
    public void FailingCase_Exit1()
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyMistral, "index.json")))!;
        foreach (var (_, layout) in index["model"]!.AsObject())
            if (layout is JsonObject o && o["dir"] is JsonNode d) o["dir"] = Path.Combine(Fixtures.TinyMistral, d.GetValue<string>());
        foreach (var c in index["cases"]!.AsArray())
            if (c!["file"] is JsonNode f) c["file"] = Path.Combine(Fixtures.TinyMistral, f.GetValue<string>());
        index["cases"]![0]!["suggested_tolerance"]!["abs"] = 1e-9; // below the real ~5e-6 difference
        File.WriteAllText(Path.Combine(_temp, "index.json"), index.ToJsonString());

        var run = Run("parity", _temp, "--case", "forward");
        Assert.Equal(ExitCodes.CheckFailed, run.ExitCode);
        Assert.StartsWith("FAIL", run.OutLines[0]);
        Assert.Equal("0 passed, 1 failed, 0 skipped on cpu (F32)", run.OutLines[1]);
    }

    [Theory]
    [InlineData("--case", "nope")]
    [InlineData("--device", "tpu")]
    [InlineData("--model", "/no/such/model")]
    public void BadInput_Exit2WithOneLine(params string[] args)
    {
        var run = Run(["parity", Fixtures.TinyMistral, .. args]);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrLines));
    }

    [Fact]
    public void DirectoryWithoutIndex_Exit2NamingTheFile()
    {
        var run = Run("parity", _temp);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains(Path.Combine(_temp, "index.json"), Assert.Single(run.ErrLines));
    }
}
