using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// LayerNormRef, GeluRef and BiasRef on the tiny-gpt2 fixture's GELU probe and its own activations (prompt 2, 9 tokens, n_embd 16):
/// each op fed the reference's input reproduces the reference's output, so a wrong eps placement, variance
/// (biased vs unbiased), GELU form or bias broadcast shows up here before any model is assembled.
/// </summary>
public class Gpt2FixtureOpsTests
{
    /// <summary>The fixture README: "an independent fp32 implementation lands within … 4.8e-7 (intermediates)".
    /// Measured: LayerNorm 4.8e-7 (one ulp of outputs in [4, 8)), GELU 1.5e-7 (probe) and 1.5e-8 (mlp), c_fc with its bias 0.</summary>
    private const double IndependentFp32Abs = 4.8e-7;
    private const float Eps = 1e-5f;   // config.json layer_norm_epsilon

    private static float[] Reference(string name)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Reference, "forward_debug.safetensors"));
        return file[name].ToFloat32();
    }

    private static float[] Weight(string name)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors"));
        return file["transformer." + name].ToFloat32();
    }

    private static float[] LayerNorm(float[] x, string prefix)
    {
        var y = new float[x.Length];
        LayerNormRef.Forward(x, Weight(prefix + ".weight"), Weight(prefix + ".bias"), Eps, y, [], []);
        return y;
    }

    /// <summary>The fixture README's intermediates tolerance ("Logits and intermediates (fp32 compute): abs 1e-4").</summary>
    private const double FixtureAbs = 1e-4;

    /// <summary>CONVENTIONS: on −6…6 the erf form differs from gelu_new "by up to 4.7e-4" (rounded there to two digits).</summary>
    private const double FormsGap = 4.7e-4, FormsGapRounding = 5e-6;

    [Fact]
    public void GeluTanh_Probe_MatchesFixture()
    {
        // probe.gelu_x = −6.0, −5.9, …, 6.0: both tails, where a wrong constant or form shows (measured 1.5e-7).
        var x = Reference("probe.gelu_x");
        Assert.Equal(121, x.Length);
        var y = new float[x.Length];
        GeluRef.Forward(x, GeluApproximation.Tanh, y);
        TensorAssert.Close(Reference("probe.gelu_y"), y, IndependentFp32Abs, 0, "gelu_new(probe.gelu_x)");
    }

    [Fact]
    public void GeluErf_Probe_DiffersFromFixtureByTheDocumentedGap()
    {
        // The probe separates the forms: erf lands within the documented gap of gelu_new, and farther than the
        // fixture tolerance, so a model run with the wrong form is caught by the activation check (measured 4.73e-4).
        var x = Reference("probe.gelu_x");
        var y = new float[x.Length];
        GeluRef.Forward(x, GeluApproximation.Erf, y);
        Assert.InRange(TensorAssert.MaxAbsDiff(Reference("probe.gelu_y"), y), FixtureAbs, FormsGap + FormsGapRounding);
    }

    [Fact]
    public void LayerNorm_Ln1Ln2LnF_MatchFixture()
    {
        // ln_1 of layer 0 reads the embeddings; ln_2 the residual after attention; ln_1 of layer 1 and ln_f the block outputs.
        var embed = Reference("embed");
        var afterAttention = new float[embed.Length];
        ElementwiseRef.Add(embed, Reference("h.0.attn_out"), afterAttention);
        TensorAssert.Close(Reference("h.0.ln_1_out"), LayerNorm(embed, "h.0.ln_1"), IndependentFp32Abs, 0, "h.0.ln_1_out");
        TensorAssert.Close(Reference("h.0.ln_2_out"), LayerNorm(afterAttention, "h.0.ln_2"), IndependentFp32Abs, 0, "h.0.ln_2_out");
        TensorAssert.Close(Reference("h.1.ln_1_out"), LayerNorm(Reference("h.0.out"), "h.1.ln_1"), IndependentFp32Abs, 0, "h.1.ln_1_out");
        TensorAssert.Close(Reference("ln_f_out"), LayerNorm(Reference("h.1.out"), "ln_f"), IndependentFp32Abs, 0, "ln_f_out");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void GeluTanh_MlpFcToHidden_MatchesFixture(int layer)
    {
        var fc = Reference($"h.{layer}.mlp_fc");
        var hidden = new float[fc.Length];
        GeluRef.Forward(fc, GeluApproximation.Tanh, hidden);
        TensorAssert.Close(Reference($"h.{layer}.mlp_hidden"), hidden, IndependentFp32Abs, 0, $"h.{layer}.mlp_hidden");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void BiasAfterGemm_CFcOfLn2_MatchesFixture(int layer)
    {
        // HF Conv1D: x [9, 16] @ c_fc.weight [16, 64] (stored [in, out]) + c_fc.bias [64].
        const int tokens = 9, dim = 16, hidden = 64;
        var y = new float[tokens * hidden];
        GemmRef.Gemm(Reference($"h.{layer}.ln_2_out"), false, Weight($"h.{layer}.mlp.c_fc.weight"), false, tokens, hidden, dim, 1f, 0f, y);
        BiasRef.Add(y, Weight($"h.{layer}.mlp.c_fc.bias"), y);
        TensorAssert.Close(Reference($"h.{layer}.mlp_fc"), y, IndependentFp32Abs, 0, $"h.{layer}.mlp_fc");
    }
}
