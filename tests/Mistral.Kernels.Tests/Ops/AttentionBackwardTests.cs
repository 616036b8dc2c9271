using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>AttentionRef.Backward against fp64 central differences of the dense fp64 attention (DenseAttention).</summary>
public class AttentionBackwardTests
{
    // The analytic gradients are fp32 sums of ≤ 8 keys × head-dim products of O(1) values, with P rebuilt from the fp32
    // lse (relative error ~1e-7 each); the fp64 finite differences are exact to ~1e-10. A few 1e-6 covers fp32 rounding.
    private const double GradAbs = 5e-6, GradRel = 2e-5;

    [Theory]
    [InlineData(4, 2, 3, 3, new[] { 7 }, new[] { 0 })]                 // GQA 2:1, window 3 < sequence 7
    [InlineData(3, 1, 2, int.MaxValue, new[] { 4, 1, 3 }, new[] { 0, 0, 0 })]  // MQA, plain causal, ragged incl. a 1-token sequence
    [InlineData(8, 2, 4, 2, new[] { 5, 6 }, new[] { 0, 0 })]           // GQA 4:1, window 2
    [InlineData(2, 2, 5, 4, new[] { 6, 3 }, new[] { 9, 2 })]           // MHA, odd head dim, sequences starting past 0
    [InlineData(2, 2, 8, int.MaxValue, new[] { 5, 4 }, new[] { 0, 0 }, 1f / 3)]  // GPT-2: full causal, scores ÷ (layer 2 + 1)
    public void Backward_MatchesFiniteDifferences(int heads, int kvHeads, int headDim, int window, int[] lengths, int[] starts, float scoreScale = 1f)
    {
        var config = new AttentionConfig(heads, kvHeads, headDim, window, scoreScale);
        int[] offsets = new int[lengths.Length];
        for (int b = 1; b < lengths.Length; b++) offsets[b] = offsets[b - 1] + lengths[b - 1];
        var batch = new AttentionBatch(offsets, lengths, starts);
        int T = batch.TotalTokens;
        var rng = new CaseRandom(heads * 97 + headDim * 13 + T);
        var q = rng.Normal(T * heads * headDim);
        var k = rng.Normal(T * kvHeads * headDim);
        var v = rng.Normal(T * kvHeads * headDim);
        var dY = rng.Normal(T * heads * headDim);

        var y = new float[q.Length];
        var lse = new float[heads * T];
        AttentionRef.Forward(q, k, v, batch, config, y, lse);
        var dQ = new float[q.Length];
        var dK = Enumerable.Repeat(float.NaN, k.Length).ToArray();   // overwritten, not accumulated: garbage must not leak
        var dV = Enumerable.Repeat(float.NaN, v.Length).ToArray();
        AttentionRef.Backward(q, k, v, y, lse, dY, batch, config, dQ, dK, dV);

        var (qd, kd, vd, dYd) = (FiniteDifference.ToDouble(q), FiniteDifference.ToDouble(k), FiniteDifference.ToDouble(v), FiniteDifference.ToDouble(dY));
        double Loss(double[] qs, double[] ks, double[] vs) =>
            FiniteDifference.Dot(dYd, DenseAttention.Forward(qs, ks, vs, lengths, starts, heads, kvHeads, headDim, window, scoreScale: scoreScale));
        TensorAssert.Close(FiniteDifference.ToSingle(FiniteDifference.Gradient(x => Loss(x, kd, vd), qd)), dQ, GradAbs, GradRel, "dQ");
        TensorAssert.Close(FiniteDifference.ToSingle(FiniteDifference.Gradient(x => Loss(qd, x, vd), kd)), dK, GradAbs, GradRel, "dK");
        TensorAssert.Close(FiniteDifference.ToSingle(FiniteDifference.Gradient(x => Loss(qd, kd, x), vd)), dV, GradAbs, GradRel, "dV");
    }
}
