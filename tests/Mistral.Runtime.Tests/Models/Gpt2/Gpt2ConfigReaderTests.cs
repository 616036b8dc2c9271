using System.Text.Json.Nodes;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Tests.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

public sealed class Gpt2ConfigReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FromConfigJson_Fixture_ReadsEveryField()
    {
        // tiny-gpt2 README: 50257 / 64 / 16 / 2 / 2, n_inner null = 64, gelu_new, 1e-5, bos = eos = 50256, tied.
        var config = Gpt2ConfigReader.FromConfigJson(TinyGpt2Files.ConfigPath);
        Assert.Equal(new Gpt2Config(50257, 64, 16, 2, 2, 64, Gpt2Activation.GeluTanh, 1e-5f,
            ScaleAttnWeights: true, ScaleAttnByInverseLayerIdx: false, ReorderAndUpcastAttn: false, TieWordEmbeddings: true,
            BosTokenId: 50256, EosTokenId: 50256), config);
        Assert.Equal(8, config.HeadDim);
    }

    [Fact]
    public void FromConfigJson_OnlySizes_TakesGpt2ConfigDefaults()
    {
        var config = Read(new JsonObject { ["vocab_size"] = 100, ["n_positions"] = 32, ["n_embd"] = 24, ["n_layer"] = 3, ["n_head"] = 4 });
        Assert.Equal(new Gpt2Config(100, 32, 24, 3, 4, 96, Gpt2Activation.GeluTanh, 1e-5f, true, false, false, true, 50256, 50256), config);
    }

    [Fact]
    public void FromConfigJson_EveryFieldSet_IsRead()
    {
        var config = Read(new JsonObject
        {
            ["vocab_size"] = 100, ["n_positions"] = 32, ["n_embd"] = 24, ["n_layer"] = 3, ["n_head"] = 4, ["n_inner"] = 40,
            ["activation_function"] = "gelu", ["layer_norm_epsilon"] = 1e-6, ["scale_attn_weights"] = false,
            ["scale_attn_by_inverse_layer_idx"] = true, ["reorder_and_upcast_attn"] = true, ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 0, ["eos_token_id"] = 7,
        });
        Assert.Equal(new Gpt2Config(100, 32, 24, 3, 4, 40, Gpt2Activation.GeluErf, 1e-6f, false, true, true, false, 0, 7), config);
    }

    [Theory]
    [InlineData("gelu_new", Gpt2Activation.GeluTanh)]
    [InlineData("gelu_pytorch_tanh", Gpt2Activation.GeluTanh)]
    [InlineData("gelu", Gpt2Activation.GeluErf)]
    public void FromConfigJson_GeluNames_MapToTheirForm(string name, Gpt2Activation expected) =>
        Assert.Equal(expected, Read(Sizes(c => c["activation_function"] = name)).Activation);

    [Theory]
    [InlineData("relu")]
    [InlineData("quick_gelu")]
    [InlineData("silu")]
    public void FromConfigJson_OtherActivation_IsRefusedNamingTheValueAndFile(string name)
    {
        var e = Fails(Sizes(c => c["activation_function"] = name));
        Assert.Equal(_dir.File("config.json"), e.FilePath);
        Assert.Equal($"field 'activation_function' is '{name}', which is not supported (expected gelu_new, gelu_pytorch_tanh or gelu)", e.Problem);
    }

    [Fact]
    public void FromConfigJson_NEmbdNotDivisibleByNHead_NamesBothNumbersAndTheFile()
    {
        var e = Fails(Sizes(c => { c["n_embd"] = 10; c["n_head"] = 3; }));
        Assert.Equal(_dir.File("config.json"), e.FilePath);
        Assert.Equal("n_embd 10 is not divisible by n_head 3 (each head takes n_embd / n_head features)", e.Problem);
    }

    [Fact]
    public void FromConfigJson_NCtxOnly_IsTheContextLength() =>
        Assert.Equal(48, Read(Sizes(c => { c.Remove("n_positions"); c["n_ctx"] = 48; })).NPositions);

    [Fact]
    public void FromConfigJson_NPositionsAndNCtx_NPositionsWins() =>
        Assert.Equal(32, Read(Sizes(c => c["n_ctx"] = 48)).NPositions);

    [Fact]
    public void FromConfigJson_NullTokenIds_MeanNone()
    {
        var config = Read(Sizes(c => { c["bos_token_id"] = null; c["eos_token_id"] = null; }));
        Assert.Null(config.BosTokenId);
        Assert.Null(config.EosTokenId);
    }

    [Theory]
    [InlineData("vocab_size")]
    [InlineData("n_embd")]
    [InlineData("n_layer")]
    [InlineData("n_head")]
    public void FromConfigJson_MissingSize_IsNamed(string field) =>
        Assert.StartsWith($"missing field '{field}'", Fails(Sizes(c => c.Remove(field))).Problem);

    [Fact]
    public void FromConfigJson_NoContextLength_AsksForNPositions() =>
        Assert.StartsWith("missing field 'n_positions'", Fails(Sizes(c => c.Remove("n_positions"))).Problem);

    [Theory]
    [InlineData("n_embd", "0")]
    [InlineData("n_layer", "-2")]
    [InlineData("n_inner", "0")]
    [InlineData("layer_norm_epsilon", "0")]
    [InlineData("layer_norm_epsilon", "-1e-5")]
    [InlineData("layer_norm_epsilon", "\"small\"")]
    [InlineData("scale_attn_weights", "1")]
    [InlineData("bos_token_id", "-1")]
    public void FromConfigJson_BadValue_IsRefusedNamingTheField(string field, string json) =>
        Assert.Contains($"'{field}'", Fails(Sizes(c => c[field] = JsonNode.Parse(json))).Problem);

    [Fact]
    public void FromConfigJson_OtherModelType_IsRefused() =>
        Assert.Equal("field 'model_type' is 'llama'; expected 'gpt2'", Fails(Sizes(c => c["model_type"] = "llama")).Problem);

    [Fact]
    public void FromConfigJson_CrossAttention_IsRefused() =>
        Assert.StartsWith("field 'add_cross_attention' is true", Fails(Sizes(c => c["add_cross_attention"] = true)).Problem);

    [Fact]
    public void ParameterCount_Fixture_EqualsTheElementsOfItsWeightFile()
    {
        long inFile = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors")).Values.Sum(t => t.ElementCount);
        Assert.Equal(inFile, Gpt2ConfigReader.FromConfigJson(TinyGpt2Files.ConfigPath).ParameterCount);
    }

    [Fact]
    public void ParameterCount_Presets_MatchThePublishedGpt2Sizes()
    {
        // GPT2LMHeadModel.from_pretrained("gpt2" / "gpt2-medium").num_parameters(), tied head counted once.
        Assert.Equal(124_439_808, Gpt2Config.Small.ParameterCount);
        Assert.Equal(354_823_168, Gpt2Config.Medium.ParameterCount);
        Assert.Equal(Gpt2Config.Small.ParameterCount + 50257L * 768, (Gpt2Config.Small with { TieWordEmbeddings = false }).ParameterCount);
    }

    [Fact]
    public void AttentionScoreScale_InverseLayerIdx_DividesByLayerPlusOne()
    {
        var config = Read(Sizes(_ => { }));   // n_embd 24, n_head 4: head_dim 6
        Assert.Equal(1f / MathF.Sqrt(6), config.AttentionScoreScale(0));
        Assert.Equal(1f / MathF.Sqrt(6), config.AttentionScoreScale(2));
        var inverse = config with { ScaleAttnByInverseLayerIdx = true };
        Assert.Equal(1f / MathF.Sqrt(6) / 3, inverse.AttentionScoreScale(2));
        Assert.Equal(1f / 3, (inverse with { ScaleAttnWeights = false }).AttentionScoreScale(2));
    }

    private static JsonObject Sizes(Action<JsonObject> edit)
    {
        var json = new JsonObject { ["model_type"] = "gpt2", ["vocab_size"] = 100, ["n_positions"] = 32, ["n_embd"] = 24, ["n_layer"] = 3, ["n_head"] = 4 };
        edit(json);
        return json;
    }

    private Gpt2Config Read(JsonObject json)
    {
        File.WriteAllText(_dir.File("config.json"), json.ToJsonString());
        return Gpt2ConfigReader.FromConfigJson(_dir.File("config.json"));
    }

    private CheckpointFormatException Fails(JsonObject json) => Assert.Throws<CheckpointFormatException>(() => Read(json));
}
