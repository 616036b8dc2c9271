using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Training.Pretrain;
using Xunit;

namespace Mistral.Runtime.Tests.Models;

/// <summary>
/// Initial weights for training from scratch: the statistics GPT-2's recipe (Hugging Face / llm.c, CONVENTIONS.md
/// "Initial weights" of tiny-gpt2 without its extra perturbation) prescribes, measured on gpt2-micro-sized and
/// mistral-tiny-sized tensors, and that a seed fixes the bytes.
/// </summary>
public sealed class WeightInitTests
{
    /// <summary>Sample std within 2 % of the target (the smallest matrix here has 65k draws: the sampling error is ~0.3 %).</summary>
    private const double StdTolerance = 0.02;

    [Fact]
    public void Initialize_Gpt2Micro_MatchesGpt2sRecipe()
    {
        var config = (Gpt2Config)ModelPreset.Find("gpt2-micro")!.ToConfig();
        var tensors = Gpt2Family.Instance.Initialize(config, seed: 7).ToList();

        Assert.Equal(Gpt2TensorNames.EngineExpected(config).Select(e => (e.Name, e.Shape)), tensors.Select(t => (t.Name, t.Shape)));
        double projStd = 0.02 / Math.Sqrt(2 * 2);   // 2 layers
        foreach (var t in tensors)
        {
            var v = t.ToFloat32();
            if (t.Name.EndsWith(".bias", StringComparison.Ordinal)) Assert.All(v, x => Assert.Equal(0f, x));
            else if (t.Name.Contains("ln_", StringComparison.Ordinal)) Assert.All(v, x => Assert.Equal(1f, x));
            else AssertNormal(t.Name, v, t.Name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? projStd : 0.02);
        }
        Assert.Contains(tensors, t => t.Name == Gpt2TensorNames.MlpCProjWeight(1));
        Assert.DoesNotContain(tensors, t => t.Name == Gpt2TensorNames.LmHead);   // tied: wte is the head
    }

    [Fact]
    public void Initialize_MistralTiny_NormalMatricesScaledOutputProjectionsUnitNorms()
    {
        var config = (MistralConfig)ModelPreset.Find("mistral-tiny")!.ToConfig();
        var tensors = MistralFamily.Instance.Initialize(config, seed: 7).ToList();

        Assert.Equal(MistralTensorNames.Expected(config).Select(e => (e.Name, e.Shape)), tensors.Select(t => (t.Name, t.Shape)));
        double projStd = 0.02 / Math.Sqrt(2 * config.NLayers);
        foreach (var t in tensors)
        {
            var v = t.ToFloat32();
            if (t.Name.EndsWith("norm.weight", StringComparison.Ordinal)) Assert.All(v, x => Assert.Equal(1f, x));
            else AssertNormal(t.Name, v, t.Name.EndsWith(".wo.weight", StringComparison.Ordinal) || t.Name.EndsWith(".w2.weight", StringComparison.Ordinal) ? projStd : 0.02);
        }
    }

    [Fact]
    public void Initialize_SameSeed_SameBytes_OtherSeed_OtherBytes()
    {
        var config = (Gpt2Config)ModelPreset.Find("gpt2-micro")!.ToConfig() with { VocabSize = 512, NEmbd = 64, NHead = 2, NInner = 256 };
        Dictionary<string, byte[]> Draw(ulong seed) => Gpt2Family.Instance.Initialize(config, seed).ToDictionary(t => t.Name, t => t.Data.ToArray());

        var a = Draw(42);
        var b = Draw(42);
        var c = Draw(43);
        Assert.Equal(a, b);
        // Every drawn tensor changes with the seed (the constant ones cannot).
        foreach (var name in new[] { Gpt2TensorNames.Wte, Gpt2TensorNames.Wpe, Gpt2TensorNames.QkvWeight(0, 'k'), Gpt2TensorNames.MlpCProjWeight(1) })
            Assert.NotEqual(a[name], c[name]);
    }

    [Fact]
    public void FromHost_InitializedTensors_UploadEachUnderItsName()
    {
        var config = (Gpt2Config)ModelPreset.Find("gpt2-micro")!.ToConfig() with { VocabSize = 300, NEmbd = 32, NHead = 2, NInner = 128, NPositions = 16 };
        var host = Gpt2Family.Instance.Initialize(config, 1).ToDictionary(t => t.Name);
        using var ops = new CpuOps();
        using var weights = ModelWeights.FromHost(ops, config, Gpt2Family.Instance.Initialize(config, 1), DType.F32);

        foreach (var (name, tensor) in weights.ByName)
        {
            var values = new float[tensor.ElementCount];
            ops.Download(tensor, values);
            Assert.Equal(host[name].ToFloat32(), values);
        }
    }

    [Fact]
    public void FromHost_MissingTensor_NamesIt()
    {
        var config = (Gpt2Config)ModelPreset.Find("gpt2-micro")!.ToConfig() with { VocabSize = 300, NEmbd = 32, NHead = 2, NInner = 128, NPositions = 16 };
        using var ops = new CpuOps();
        var e = Assert.Throws<ArgumentException>(() =>
            ModelWeights.FromHost(ops, config, Gpt2Family.Instance.Initialize(config, 1).Where(t => t.Name != Gpt2TensorNames.LnFBias), DType.F32));
        Assert.Contains("'ln_f.bias'", e.Message);
    }

    [Fact]
    public void ToConfig_Presets_GiveEachFamilysConfig()
    {
        var gpt2 = Assert.IsType<Gpt2Config>(ModelPreset.Find("gpt2-small")!.ToConfig());
        Assert.Equal(Gpt2Config.Small.ParameterCount, gpt2.ParameterCount);   // 124,439,808, as HF's gpt2
        Assert.Equal((50256, 50256), (gpt2.BosTokenId, gpt2.EosTokenId));
        Assert.True(((Gpt2Config)ModelPreset.Find("gpt2-micro")!.ToConfig(scaleAttnByInverseLayerIdx: true)).ScaleAttnByInverseLayerIdx);
        var mistral = Assert.IsType<MistralConfig>(ModelPreset.Find("mistral-7b")!.ToConfig());
        Assert.Equal(new MistralConfig(4096, 32, 128, 14336, 32, 8, 4096, 1e-5f, 32000, 10000f, ContextLength: 32768), mistral);
    }

    private static void AssertNormal(string name, float[] v, double std)
    {
        double mean = v.Average(x => (double)x);
        double sampleStd = Math.Sqrt(v.Average(x => ((double)x - mean) * ((double)x - mean)));
        Assert.True(Math.Abs(sampleStd / std - 1) < StdTolerance, $"{name}: std {sampleStd:E4}, target {std:E4}");
        Assert.True(Math.Abs(mean) < 0.05 * std, $"{name}: mean {mean:E3}, target 0 (std {std:E3})");
    }
}
