using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// GPT-2's Hugging Face map describes c_attn as one stored tensor of three engine parts; reading through that
/// description (the generic <see cref="HfCheckpoint"/>) must give exactly what the GPT-2 reader gives.
/// </summary>
public sealed class Gpt2HfTensorNamesTests
{
    [Fact]
    public void HfCheckpoint_Gpt2Map_ReadsEveryEngineTensorAsGpt2SplitCheckpointDoes()
    {
        var config = Gpt2ConfigReader.FromConfigJson(Path.Combine(Fixtures.TinyGpt2Hf, "config.json"));
        var schema = Gpt2Family.Instance.Schema(config);
        using var generic = HfCheckpoint.Open(Fixtures.TinyGpt2Hf, schema);
        using var gpt2 = Gpt2Family.Instance.OpenHf(Fixtures.TinyGpt2Hf, config);

        Assert.Equal(gpt2.Tensors.Keys.Order(), generic.Tensors.Keys.Order());
        foreach (var (name, shape) in schema.Expected)
        {
            var want = gpt2.Read(name);
            var got = generic.Read(name);
            Assert.Equal(name, got.Name);
            Assert.Equal(shape, got.Shape);
            Assert.True(want.Bytes.SequenceEqual(got.Bytes), $"'{name}' differs");
        }
        Assert.Equal("transformer.h.1.attn.c_attn.weight", generic.Tensors[Gpt2TensorNames.QkvWeight(1, 'v')].StoredName);
    }

    [Fact]
    public void StoredTensors_Gpt2Config_FuseQkvTransposeConv1DAndLeaveTheTiedHeadOut()
    {
        var config = Gpt2ConfigReader.FromConfigJson(Path.Combine(Fixtures.TinyGpt2Hf, "config.json"));   // C = 16, I = 64
        var schema = Gpt2Family.Instance.Schema(config);
        var stored = schema.Hf!.StoredTensors([.. schema.Stored]);

        Assert.Equal(28, stored.Count);
        var cAttn = stored.Single(t => t.Name == "transformer.h.0.attn.c_attn.weight");
        Assert.Equal(new Shape(16, 48), cAttn.Shape);   // Conv1D [in, out]
        Assert.Equal([Gpt2TensorNames.QkvWeight(0, 'q'), Gpt2TensorNames.QkvWeight(0, 'k'), Gpt2TensorNames.QkvWeight(0, 'v')], cAttn.Parts.Select(p => p.Name));
        Assert.Equal(new Shape(64, 16), stored.Single(t => t.Name == "transformer.h.1.mlp.c_proj.weight").Shape);
        Assert.DoesNotContain(stored, t => t.Name.Contains("lm_head", StringComparison.Ordinal));
    }
}
