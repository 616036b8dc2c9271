using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Tests.Models.Gpt2;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Model;

/// <summary>
/// A model made in memory written as a Hugging Face directory: the fixture models' own tensors go through
/// <see cref="HfModelWriter"/> and must reopen to the reference logits, the weight files must equal the ones
/// transformers wrote, and config.json must read back to an equal config with the keys transformers writes.
/// </summary>
public sealed class HfModelWriterTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Write_TinyGpt2FromItsTensors_ReopensWithTheReferenceLogitsAndTheTransformersFile()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        string destination = _dir.File("out");
        HfModelWriter.Write(destination, source.Config, source.Read, DType.F32, Fixtures.TinyGpt2Hf);

        using (var written = ModelDirectory.Open(destination))
        {
            Assert.Equal(ModelLayout.HuggingFace, written.Layout);
            Assert.Equal(source.Config, written.Config);
            foreach (var (name, _) in source.Schema.Expected)
                Assert.True(source.Read(name).Bytes.SequenceEqual(written.Read(name).Bytes), $"'{name}' differs after the round trip");
        }
        Assert.True(File.ReadAllBytes(Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors")).AsSpan()
            .SequenceEqual(File.ReadAllBytes(Path.Combine(destination, "model.safetensors"))), "model.safetensors differs from the transformers file");
        foreach (var file in (string[])["vocab.json", "merges.txt"])
            Assert.True(File.ReadAllBytes(Path.Combine(Fixtures.TinyGpt2Hf, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(destination, file))), file);
        Assert.True(JsonNode.DeepEquals(Without(Json(Path.Combine(Fixtures.TinyGpt2Hf, "generation_config.json")), "transformers_version"),
            Json(Path.Combine(destination, "generation_config.json"))));
        double worst = Gpt2ModelTests.WorstReferenceLogitDifference(destination);
        output.WriteLine($"gpt2 written from its tensors: max |logits - reference| = {worst:E2}");
        Assert.True(worst <= Gpt2ModelTests.LogitsTolerance, $"worst logit difference {worst:E2}");
        Assert.Empty(Directory.GetFiles(destination, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Write_TinyGpt2Untied_StoresTheHeadUnprefixedAndKeepsTheLogits()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        var untied = (Gpt2Config)source.Config with { TieWordEmbeddings = false };
        string destination = _dir.File("out");
        HfModelWriter.Write(destination, untied, name => name == Gpt2TensorNames.LmHead ? source.Read(Gpt2TensorNames.Wte).WithName(name) : source.Read(name),
            DType.F32, Fixtures.TinyGpt2Hf);

        using (var file = SafeTensorsFile.Open(Path.Combine(destination, "model.safetensors")))
        {
            Assert.Contains("lm_head.weight", file.Names);
            Assert.Contains("transformer.wte.weight", file.Names);
            Assert.Equal(29, file.Names.Count);
        }
        double worst = Gpt2ModelTests.WorstReferenceLogitDifference(destination);
        output.WriteLine($"gpt2 untied head: max |logits - reference| = {worst:E2}");
        Assert.True(worst <= Gpt2ModelTests.LogitsTolerance, $"worst logit difference {worst:E2}");
    }

    [Fact]
    public void Write_TinyMistralFromNativeTensors_PermutesLikeTransformersAndKeepsTheReferenceLogits()
    {
        // The native layout's tensors, written as HF: q/k rows must come out permuted exactly as the fixture's HF file.
        using var hf = ModelDirectory.Open(Fixtures.TinyHf);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        string destination = _dir.File("out");
        HfModelWriter.Write(destination, hf.Config, native.Read, DType.BF16, Fixtures.TinyHf);

        var original = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyHf, "model.safetensors"));
        var rewritten = SafeTensorsFile.ReadAll(Path.Combine(destination, "model.safetensors"));
        Assert.Equal(original.Keys.Order(), rewritten.Keys.Order());
        foreach (var (name, tensor) in original)
            Assert.True(tensor.Bytes.SequenceEqual(rewritten[name].Bytes), $"'{name}' differs from the reference HF file");

        using (var written = ModelDirectory.Open(destination))
        {
            Assert.Equal(hf.Config, written.Config);
            Assert.Equal(DType.BF16, written.StoredDType);
            ModelDirectoryTests.AssertSameTensors(native, written);
        }
        Assert.True(File.Exists(Path.Combine(destination, "tokenizer.model")));
        Assert.True(File.Exists(Path.Combine(destination, "tokenizer.json")));
        Assert.Equal(1, (int)Json(Path.Combine(destination, "generation_config.json"))["bos_token_id"]!);

        using var model = TinyModel.Open(destination);
        double worst = model.AssertReferenceLogits("written");
        output.WriteLine($"mistral written from native tensors: max |logits - reference| = {worst:E2}");
    }

    public static TheoryData<string> Gpt2Configs => ["fixture", "untied", "erf", "inverse-layer", "no-ids", "bf16-eps"];

    [Theory]
    [MemberData(nameof(Gpt2Configs))]
    public void Gpt2ConfigJson_EveryVariant_ReadsBackEqual(string variant)
    {
        var fixture = Gpt2ConfigReader.FromConfigJson(Path.Combine(Fixtures.TinyGpt2Hf, "config.json"));
        var config = variant switch
        {
            "untied" => fixture with { TieWordEmbeddings = false },
            "erf" => fixture with { Activation = Gpt2Activation.GeluErf, NInner = 40 },
            "inverse-layer" => fixture with { ScaleAttnByInverseLayerIdx = true, ReorderAndUpcastAttn = true, ScaleAttnWeights = false },
            "no-ids" => fixture with { BosTokenId = null, EosTokenId = null },
            "bf16-eps" => fixture with { LayerNormEpsilon = 1e-6f, NPositions = 1024 },
            _ => fixture,
        };
        string path = WriteConfig(config, DType.BF16);
        Assert.Equal(config, Gpt2ConfigReader.FromConfigJson(path));
        Assert.Equal("bfloat16", (string)Json(path)["torch_dtype"]!);
    }

    [Fact]
    public void Gpt2ConfigJson_FixtureConfig_HasTheKeysAndValuesTransformersWrote()
    {
        var reference = Json(Path.Combine(Fixtures.TinyGpt2Hf, "config.json"));
        var config = Gpt2ConfigReader.FromConfigJson(Path.Combine(Fixtures.TinyGpt2Hf, "config.json"));
        var ours = Json(WriteConfig(config, DType.F32));

        // transformers_version names the writer, which is not transformers here.
        AssertSameKeysAndValues(reference, ours);
        Assert.Equal(40, (int)Json(WriteConfig(config with { NInner = 40 }, DType.F32))["n_inner"]!);
    }

    private static void AssertSameKeysAndValues(JsonObject reference, JsonObject ours)
    {
        Assert.Equal(reference.Select(p => p.Key).Where(k => k != "transformers_version").Order(), ours.Select(p => p.Key).Order());
        foreach (var (key, value) in reference)
            if (key != "transformers_version")
                Assert.True(JsonNode.DeepEquals(value, ours[key]) || (value is JsonValue a && ours[key] is JsonValue b && a.TryGetValue(out double x) && b.TryGetValue(out double y) && x == y),
                    $"'{key}': the reference has {value?.ToJsonString()}, we wrote {ours[key]?.ToJsonString()}");
    }

    public static TheoryData<string> MistralConfigs => ["fixture", "no-window-no-context", "tied-rope1e6", "mha"];

    [Theory]
    [MemberData(nameof(MistralConfigs))]
    public void MistralConfigJson_EveryVariant_ReadsBackEqual(string variant)
    {
        var fixture = MistralConfigReader.FromHfConfigJson(Path.Combine(Fixtures.TinyHf, "config.json"));
        var config = variant switch
        {
            "no-window-no-context" => fixture with { SlidingWindow = null, ContextLength = null },
            "tied-rope1e6" => fixture with { TieWordEmbeddings = true, RopeTheta = 1e6f, NormEps = 1e-6f },
            "mha" => fixture with { NKvHeads = fixture.NHeads, HeadDim = 32 },
            _ => fixture,
        };
        string path = WriteConfig(config, DType.F32);
        Assert.Equal(config, MistralConfigReader.FromHfConfigJson(path));
    }

    [Fact]
    public void MistralConfigJson_FixtureConfig_HasTheKeysAndValuesOfTheFixture()
    {
        var reference = Json(Path.Combine(Fixtures.TinyHf, "config.json"));
        var ours = Json(WriteConfig(MistralConfigReader.FromHfConfigJson(Path.Combine(Fixtures.TinyHf, "config.json")), DType.BF16));
        AssertSameKeysAndValues(reference, ours);
    }

    [Fact]
    public void Tokenizer_SingleFileUnderAnotherName_IsCopiedUnderTheNameADirectoryIsSearchedFor()
    {
        string renamed = _dir.File("mistral.model");
        File.Copy(Path.Combine(Fixtures.MistralTokenizer, "tokenizer.model"), renamed);
        using var source = ModelDirectory.Open(Fixtures.TinyNative);
        string destination = _dir.File("out");
        HfModelWriter.Write(destination, source.Config, source.Read, DType.BF16, renamed);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "tokenizer.model"],
            Directory.GetFiles(destination).Select(Path.GetFileName).Order());
        using var written = ModelDirectory.Open(destination);
        Assert.Equal(Path.Combine(destination, "tokenizer.model"), written.TokenizerPath);
    }

    [Fact]
    public void Tokenizer_Gpt2VocabFile_BringsItsMerges()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        string destination = _dir.File("out");
        HfModelWriter.Write(destination, source.Config, source.Read, DType.F32, Path.Combine(Fixtures.TinyGpt2Hf, "vocab.json"));
        Assert.True(File.Exists(Path.Combine(destination, "merges.txt")));
        Assert.True(File.Exists(Path.Combine(destination, "vocab.json")));
    }

    [Fact]
    public void Write_IntegerStoredDType_IsRefusedBeforeAnythingIsWritten()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        string destination = _dir.File("out");
        var e = Assert.Throws<ArgumentException>(() => HfModelWriter.Write(destination, source.Config, source.Read, DType.I32, null));
        Assert.Contains("I32", e.Message);
        Assert.False(Directory.Exists(destination));
    }

    private string WriteConfig(IModelConfig config, DType dtype)
    {
        string path = _dir.File($"config-{Guid.NewGuid():N}.json");
        var json = ModelFamilies.Of(config).HfConfigJson(config, dtype);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static JsonObject Json(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private static JsonObject Without(JsonObject json, string key)
    {
        var copy = json.DeepClone().AsObject();
        copy.Remove(key);
        return copy;
    }
}
