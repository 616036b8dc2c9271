using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Parity;
using Mistral.Runtime.Tests.Model;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// The GPT-2 family end to end against the tiny-gpt2 fixture (llm.c's GPT with Hugging Face semantics): every layout
/// loads to the same logits, the parity cases pass on the CPU and the emulated CUDA device, and the family is what a
/// directory's config.json asks for.
/// </summary>
public sealed class Gpt2ModelTests : IDisposable
{
    /// <summary>The fixture's tolerance for fp32 logits (README "How to compare": abs 1e-4).</summary>
    public const double LogitsTolerance = 1e-4;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Variants() => [.. TinyGpt2Files.Variants];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Forward_EveryLayout_GivesTheReferenceLogits(string variant)
    {
        var (directory, dtype) = TinyGpt2Files.WriteVariant(_dir, TinyGpt2Files.Stored(), variant);
        double worst = WorstReferenceLogitDifference(directory);
        // fp32 layouts hold the fixture's exact weights; fp16/bf16 round each weight by up to 2^-11 / 2^-8 relative,
        // which moves these small logits (std 0.08, README) by far less than the rounding of the weights themselves.
        double tolerance = dtype switch { DType.F16 => 1e-3, DType.BF16 => 1e-2, _ => LogitsTolerance };
        Assert.True(worst <= tolerance, $"{variant} ({dtype}): worst logit difference {worst:E2} > {tolerance:E0}");
    }

    /// <summary>The largest |logit − reference| of a GPT-2 model directory over the three prompts of reference/forward.safetensors (CPU, fp32).</summary>
    public static double WorstReferenceLogitDifference(string directory)
    {
        using var ops = new CpuOps();
        using var model = LoadedModel.Load(directory, ops, DType.F32);
        Assert.Equal(Gpt2Family.FamilyName, model.Model.Config.Family);

        using var reference = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Reference, "forward.safetensors"));
        double worst = 0;
        for (int p = 0; p < 3; p++)
        {
            int[] tokens = [.. reference.Get($"prompt{p}.tokens").ToInt64().Select(t => (int)t)];
            float[] want = reference.Get($"prompt{p}.logits").ToFloat32();
            var logits = model.Model.Forward(tokens, AttentionBatch.FromLengths([tokens.Length]));
            var got = new float[logits.ElementCount];
            ops.Download(logits, got);
            for (int i = 0; i < want.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[i]));
        }
        return worst;
    }

    [Fact]
    public void Parity_Cpu_EveryCasePasses()
    {
        using var ops = new CpuOps();
        AssertEveryCasePasses(ParityRunner.Run(Fixtures.TinyGpt2, ops));
    }

    [Fact]
    public void Parity_EmulatedCuda_EveryCasePasses()
    {
        using var ops = new CudaOps(TestDevices.Emulated(), DType.F32, ownsDevice: true);
        AssertEveryCasePasses(ParityRunner.Run(Fixtures.TinyGpt2, ops));
    }

    [Fact]
    public void Generate_PastNPositions_IsRefusedBeforeAnyWorkNamingBothNumbers()
    {
        using var ops = new CpuOps();
        using var model = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops);
        var generator = new Generator(model.Model);
        int[] prompt = model.RequireTokenizer().Encode("Hello there", bos: false); // 2 tokens
        var options = new GenerationOptions { MaxTokens = 63, Sampling = SamplingOptions.Greedy };
        var error = Assert.Throws<ArgumentException>(() => generator.Generate([prompt], options));
        Assert.Contains("65 positions", error.Message);
        Assert.Contains("64 positions (n_positions)", error.Message);
        Assert.Equal(62, generator.Generate([prompt], options with { MaxTokens = 62 }).Sequences[0].Tokens.Length);
    }

    [Fact]
    public void Open_EachLayout_DispatchesToItsFamily()
    {
        using (var gpt2 = ModelDirectory.Open(Fixtures.TinyGpt2Hf)) Assert.Same(Gpt2Family.Instance, gpt2.Family);
        using (var hf = ModelDirectory.Open(Fixtures.TinyHf)) Assert.Equal("mistral", hf.Family.Name);
        using (var native = ModelDirectory.Open(Fixtures.TinyNative)) Assert.Equal("mistral", native.Family.Name);
        Assert.Equal(["mistral", "gpt2"], ModelFamilies.All.Select(f => f.Name));
    }

    [Fact]
    public void Load_CAttn_IsSplitIntoItsQkvRowThirds()
    {
        using var directory = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        var stored = TinyGpt2Files.ExpectedEngineValues(TinyGpt2Files.Stored(), Gpt2TensorNames.CAttnWeight(1), out var shape); // [48, 16]
        Assert.Equal(new Shape(48, 16), shape);
        var parts = Gpt2TensorNames.QkvParts.ToArray();
        for (int third = 0; third < 3; third++)
        {
            var part = directory.Read(Gpt2TensorNames.QkvWeight(1, parts[third]));
            Assert.Equal(new Shape(16, 16), part.Shape);
            Assert.Equal(stored.AsSpan(third * 256, 256).ToArray(), part.ToFloat32());
        }
    }

    private static void AssertEveryCasePasses(IReadOnlyList<ParityCaseResult> results)
    {
        Assert.Equal(["forward", "forward_debug", "greedy", "full_train", "data"], results.Select(r => r.Name));
        Assert.All(results.Take(3), r =>
        {
            Assert.True(r.Status == ParityStatus.Pass, r.ToString());
            Assert.InRange(r.MaxAbsDiff!.Value, 0, LogitsTolerance);
            Assert.True(r.TokensEqual);
        });
        // full_train: step-0 loss and gradients, 5 Trainer steps and the final weights, each within the fixture's tolerance.
        Assert.True(results[3].Status == ParityStatus.Pass, results[3].ToString());
        // data: the pretraining pipeline's token stream and blocks equal the reference's exactly.
        Assert.True(results[4].Status == ParityStatus.Pass, results[4].ToString());
    }
}
