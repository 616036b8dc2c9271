using System.Text.Json.Nodes;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Lora;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Model;

/// <summary>Which family reads a directory (params.json, config.json model_type) and what the family hands up.</summary>
public sealed class ModelFamiliesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("native")]
    [InlineData("native-pth")]
    [InlineData("hf")]
    public void Open_MistralLayouts_AreReadByTheMistralFamily(string layout)
    {
        using var model = ModelDirectory.Open(Path.Combine(Fixtures.TinyMistral, layout));
        Assert.Same(MistralFamily.Instance, model.Family);
        Assert.Equal("mistral", model.Config.Family);
        Assert.IsType<MistralConfig>(model.Config);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void Open_HfModelTypeNoFamilyReads_IsRefusedNamingTheTypeAndTheSupportedOnes(string modelType)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyHf, "config.json")))!;
        config["model_type"] = modelType;
        File.WriteAllText(_dir.File("config.json"), config.ToJsonString());
        File.Copy(Path.Combine(Fixtures.TinyHf, "model.safetensors"), _dir.File("model.safetensors"));

        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.StartsWith(_dir.File("config.json"), e.Message);
        Assert.Contains($"field 'model_type' is '{modelType}', which this engine does not run (supported: ", e.Message);
        Assert.EndsWith("(supported: mistral, gpt2)", e.Message);
    }

    [Fact]
    public void Registry_EveryFamily_HasItsOwnNameAndModelTypes()
    {
        Assert.Equal(ModelFamilies.All.Count, ModelFamilies.All.Select(f => f.Name).Distinct().Count());
        Assert.Equal(ModelFamilies.HfModelTypes.Count(), ModelFamilies.HfModelTypes.Distinct().Count());
        foreach (var family in ModelFamilies.All)
            foreach (var type in family.HfModelTypes)
                Assert.Same(family, ModelFamilies.ForHfModelType(type));
        Assert.Null(ModelFamilies.ForHfModelType("llama"));
    }

    [Fact]
    public void LoraAdapters_Create_TakeNamesAndShapesFromTheModelsLinearModules()
    {
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyNative, ops);
        var lora = new LoraConfig(Rank: 3, Dropout: 0, Scaling: 1, Targets: ["wo", "w2"], InitFile: null, TrainNorms: false);
        using var adapters = LoraAdapters.Create(ops, loaded.Model, lora, Xoshiro256StarStar.ForStream(0, 0));

        // Block by block, targets in the config's order; wo is [dim, heads·head_dim] = [64, 64], w2 [dim, hidden] = [64, 176].
        Assert.Equal(["layers.0.attention.wo", "layers.0.feed_forward.w2", "layers.1.attention.wo", "layers.1.feed_forward.w2"],
            adapters.All.Select(a => a.Module));
        Assert.Equal(new Shape(3, 64), adapters.All[0].A.Value.Shape);
        Assert.Equal(new Shape(64, 3), adapters.All[0].B.Value.Shape);
        Assert.Equal(new Shape(3, 176), adapters.All[1].A.Value.Shape);
        Assert.Equal(new Shape(64, 3), adapters.All[1].B.Value.Shape);
    }

    [Fact]
    public void NormWeights_OfMistral_AreEachLayersTwoNormsThenTheFinalOne()
    {
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyNative, ops);
        Assert.Equal(["layers.0.attention_norm.weight", "layers.0.ffn_norm.weight", "layers.1.attention_norm.weight", "layers.1.ffn_norm.weight", "norm.weight"],
            loaded.Model.NormWeights.Select(n => n.Name));
        Assert.Same(loaded.Weights["norm.weight"], loaded.Model.NormWeights[^1].Tensor);
    }
}
