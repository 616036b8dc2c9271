using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Parity;

/// <summary>The transformer against the Python reference's own numbers (reference/forward*.safetensors), for every layout.</summary>
public class ForwardParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Layouts => ["native", "native-pth", "hf"];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Forward_ThreePromptsInOneBatch_MatchReferenceLogits(string layout)
    {
        using var model = TinyModel.Open(Path.Combine(Fixtures.TinyMistral, layout));
        double worst = model.AssertReferenceLogits(layout);
        output.WriteLine($"{layout}: max |logits - reference| = {worst:E2}");
    }

    [Fact]
    public void Forward_LastTokens_EqualsLastRowsOfAllTokens()
    {
        using var model = new TinyModel();
        var prompts = TinyModel.ReferencePrompts();
        var tokens = prompts.SelectMany(p => p).ToArray();
        var batch = AttentionBatch.FromLengths(prompts.Select(p => p.Length).ToArray());
        var all = model.Download(model.Model.Forward(tokens, batch, logitsFor: LogitsFor.AllTokens));
        var last = model.Download(model.Model.Forward(tokens, batch, logitsFor: LogitsFor.LastTokens));

        int vocab = model.Config.VocabSize;
        Assert.Equal(prompts.Length * vocab, last.Length);
        for (int b = 0; b < prompts.Length; b++)
        {
            int row = batch.TokenOffsets[b] + prompts[b].Length - 1;
            // The same row goes through the same per-row ops, so only GEMM blocking could differ.
            TensorAssert.Close(all.AsSpan(row * vocab, vocab), last.AsSpan(b * vocab, vocab), 1e-6, what: $"sequence {b} last logits");
        }
    }

    [Fact]
    public void Forward_Intermediates_MatchReferenceDebugDump()
    {
        using var model = new TinyModel();
        var prompt = TinyModel.ReferenceInts("forward_debug.safetensors", "tokens");
        var seen = new Dictionary<string, float[]>();
        model.Model.Forward(prompt, AttentionBatch.FromLengths([prompt.Length]), observe: (name, t) => seen[name] = model.Download(t));

        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyReference, "forward_debug.safetensors"));
        var expectedNames = file.Names.Where(n => n != "tokens" && !n.StartsWith("rope.", StringComparison.Ordinal)).ToList();
        Assert.Equal(expectedNames.Order(), seen.Keys.Order()); // every activation the reference dumps, and no other
        foreach (var name in expectedNames)
        {
            TensorAssert.Close(file.Get(name).ToFloat32(), seen[name], TinyModel.ReferenceTolerance, what: name);
            output.WriteLine($"{name}: {TensorAssert.MaxAbsDiff(file.Get(name).ToFloat32(), seen[name]):E2}");
        }
    }

    [Fact]
    public void Forward_TokenOutsideVocabulary_Throws()
    {
        using var model = new TinyModel();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Model.Forward([1, 32000], AttentionBatch.FromLengths([2])));
        Assert.Contains("32000", e.Message);
    }
}
