using System.Text.Json.Nodes;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Parity;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Parity;

public sealed class ParityRunnerTests : IDisposable
{
    private readonly CpuOps _ops = new();
    private readonly string _temp = Directory.CreateTempSubdirectory("mistral-parity-").FullName;

    [Fact]
    public void TinyFixture_EveryCasePasses()
    {
        var results = ParityRunner.Run(Fixtures.TinyMistral, _ops);
        Assert.Equal(["forward", "forward_debug", "greedy", "lora_train"], results.Select(r => r.Name));
        Assert.All(results.Take(3), r =>
        {
            Assert.Equal(ParityStatus.Pass, r.Status);
            Assert.InRange(r.MaxAbsDiff!.Value, 0, 1e-4);
            Assert.True(r.TokensEqual);
        });
        // lora_train: judged against the tightest of its tolerances that binds (loss 1e-5, grads 1e-5, weights 1e-4).
        Assert.Equal(ParityStatus.Pass, results[3].Status);
        Assert.InRange(results[3].MaxAbsDiff!.Value, 0, 1e-5);
    }

    [Fact]
    public void CaseKinds_ArePluggable()
    {
        var kinds = ParityCaseKinds.All.Append(new FixedKind("lora_train", ParityStatus.Pass)).ToList();
        var results = ParityRunner.Run(Fixtures.TinyMistral, _ops, caseName: "lora_train", kinds: kinds);
        Assert.Equal(ParityStatus.Pass, Assert.Single(results).Status);
    }

    [Fact]
    public void ToleranceBelowTheRealDifference_Fails()
    {
        // The CPU path differs from the reference by ~5e-6; a 1e-9 bound must turn that into FAIL, not PASS.
        string dir = WriteIndex(index => index["cases"]![0]!["suggested_tolerance"]!["abs"] = 1e-9);
        var result = Assert.Single(ParityRunner.Run(dir, _ops, caseName: "forward"));
        Assert.Equal(ParityStatus.Fail, result.Status);
        Assert.True(result.MaxAbsDiff > 1e-9);
        Assert.StartsWith("FAIL", result.ToString());
    }

    [Fact]
    public void WrongExpectedTokens_Fail()
    {
        string dir = WriteIndex(index => index["cases"]![0]!["prompts"]![0]![1] = 11903); // not the prompt the logits belong to
        var result = Assert.Single(ParityRunner.Run(dir, _ops, caseName: "forward"));
        Assert.Equal(ParityStatus.Fail, result.Status);
        Assert.False(result.TokensEqual);
    }

    [Fact]
    public void ModelOption_OverridesTheIndexPath()
    {
        var results = ParityRunner.Run(Fixtures.TinyMistral, _ops, caseName: "forward", modelDir: Fixtures.TinyNativePth);
        Assert.Equal(ParityStatus.Pass, Assert.Single(results).Status);
    }

    [Fact]
    public void BadInput_ThrowsNamingTheProblem()
    {
        Assert.Contains("no case named 'nope'", Assert.Throws<ArgumentException>(() => ParityRunner.Run(Fixtures.TinyMistral, _ops, caseName: "nope")).Message);
        Assert.Contains("index.json", Assert.Throws<ParityFormatException>(() => ParityRunner.Run(_temp, _ops)).Message);

        File.WriteAllText(Path.Combine(_temp, "index.json"), "{ not json");
        Assert.Contains("invalid JSON", Assert.Throws<ParityFormatException>(() => ParityIndex.Load(_temp)).Message);

        string dir = WriteIndex(index => index["format_version"] = 2);
        Assert.Contains("format_version", Assert.Throws<ParityFormatException>(() => ParityIndex.Load(dir)).Message);

        dir = WriteIndex(index => index["cases"]![0]!["file"] = Path.Combine(Fixtures.TinyReference, "greedy.safetensors"));
        var e = Assert.Throws<ParityFormatException>(() => ParityRunner.Run(dir, _ops, caseName: "forward"));
        Assert.Contains("prompt0.logits", e.Message);
    }

    /// <summary>A copy of the tiny fixture's index.json in a temp dir, with absolute paths, edited by <paramref name="edit"/>.</summary>
    private string WriteIndex(Action<JsonNode> edit)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyMistral, "index.json")))!;
        foreach (var (_, layout) in index["model"]!.AsObject())
            if (layout is JsonObject o && o["dir"] is JsonNode d) o["dir"] = Path.Combine(Fixtures.TinyMistral, d.GetValue<string>());
        foreach (var c in index["cases"]!.AsArray())
            if (c!["file"] is JsonNode f) c["file"] = Path.Combine(Fixtures.TinyMistral, f.GetValue<string>());
        edit(index);
        string dir = Directory.CreateDirectory(Path.Combine(_temp, $"case{Directory.GetDirectories(_temp).Length}")).FullName;
        File.WriteAllText(Path.Combine(dir, "index.json"), index.ToJsonString());
        return dir;
    }

    private sealed class FixedKind(string kind, ParityStatus status) : IParityCaseKind
    {
        public string Kind => kind;
        public ParityCaseResult Run(ParityCase testCase, ParityContext context) => new(testCase.Name, kind, status, 0, null, 0, "fixed");
    }

    public void Dispose()
    {
        _ops.Dispose();
        Directory.Delete(_temp, recursive: true);
    }
}
