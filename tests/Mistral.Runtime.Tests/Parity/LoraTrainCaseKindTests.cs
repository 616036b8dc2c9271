using System.Text.Json.Nodes;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Parity;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Parity;

public sealed class LoraTrainCaseKindTests : IDisposable
{
    private readonly CpuOps _ops = new();
    private readonly string _temp = Directory.CreateTempSubdirectory("lora-parity-").FullName;

    public void Dispose()
    {
        _ops.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    [Fact]
    public void GradToleranceBelowTheRealDifference_Fails()
    {
        // The CPU gradients differ from the reference by ~1.4e-7; a 1e-12 bound must make the case FAIL on them.
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyMistral, "index.json")))!;
        foreach (var (_, layout) in index["model"]!.AsObject())
            if (layout is JsonObject o && o["dir"] is JsonNode d) o["dir"] = Path.Combine(Fixtures.TinyMistral, d.GetValue<string>());
        var lora = index["cases"]!.AsArray().Single(c => c!["kind"]!.GetValue<string>() == "lora_train")!;
        foreach (var f in lora["files"]!.AsArray()) f!["file"] = Path.Combine(Fixtures.TinyMistral, f["file"]!.GetValue<string>());
        lora["suggested_tolerance"]!["grad_abs"] = 1e-12;
        File.WriteAllText(Path.Combine(_temp, "index.json"), index.ToJsonString());

        var result = Assert.Single(ParityRunner.Run(_temp, _ops, caseName: "lora_train"));
        Assert.Equal(ParityStatus.Fail, result.Status);
        Assert.Equal(1e-12, result.Tolerance);
        Assert.StartsWith("grad ", result.Detail.Split("worst ")[1]);
    }
}
