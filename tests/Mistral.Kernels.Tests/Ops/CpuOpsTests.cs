using System.Runtime.InteropServices;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class CpuOpsTests
{
    private readonly CpuOps _ops = new();

    private Tensor F32(Shape shape, params float[] values) => _ops.Upload(values.Length == 0 ? new float[shape.ElementCount] : values, shape, DType.F32);
    private static float[] Values(Tensor t) => ((CpuTensor)t).Floats.ToArray();

    [Fact]
    public void Upload_Bf16_RoundsValuesToNearestEven()
    {
        var t = _ops.Upload([1f + 1f / 256, 1f + 3f / 256, 0.1f], new Shape(3), DType.BF16);
        var back = new float[3];
        _ops.Download(t, back);
        Assert.Equal([1f, 1f + 1f / 64, FloatBits.BFloat16ToSingle(0x3DCD)], back);   // 0.1 -> bf16 0x3DCD = 0.10009766
    }

    [Fact]
    public void Upload_Bf16Bytes_IntoF32_IsExact()
    {
        byte[] raw = [0x80, 0x3F, 0x20, 0xC0];   // bf16 1.0, -2.5
        var t = _ops.Upload(raw, DType.BF16, new Shape(2), DType.F32);
        Assert.Equal([1f, -2.5f], Values(t));
    }

    [Fact]
    public void Upload_I64Tokens_BecomeI32_AndOverflowIsRejected()
    {
        long[] ids = [1, 31999];
        var t = _ops.Upload(MemoryMarshal.AsBytes<long>(ids), DType.I64, new Shape(2), DType.I32);
        var back = new int[2];
        _ops.Download(t, back);
        Assert.Equal([1, 31999], back);
        long[] huge = [1L << 40];
        var ex = Assert.Throws<ArgumentException>(() => _ops.Upload(MemoryMarshal.AsBytes<long>(huge), DType.I64, new Shape(1), DType.I32));
        Assert.Contains("does not fit I32", ex.Message);
    }

    [Fact]
    public void Copy_F32ToBf16_Rounds_AndBf16ResultsStayRounded()
    {
        var src = F32(new Shape(2), 1f + 1f / 256, 3f);
        var dst = _ops.Allocate(new Shape(2), DType.BF16);
        _ops.Copy(src, dst);
        Assert.Equal([1f, 3f], Values(dst));
        _ops.Add(dst, F32(new Shape(2), 1f / 256, 0f), dst);   // 1 + 1/256 is a bf16 tie -> rounds back to 1
        Assert.Equal([1f, 3f], Values(dst));
    }

    [Fact]
    public void Gemm_LinearLayer_ThroughTheInterface()
    {
        // y = x · Wᵀ: x [1, 2] = [1, 2], W [3, 2] = rows [1, 0], [0, 1], [1, 1] -> y = [1, 2, 3]
        var x = F32(new Shape(1, 2), 1, 2);
        var w = F32(new Shape(3, 2), 1, 0, 0, 1, 1, 1);
        var y = F32(new Shape(1, 3));
        _ops.Gemm(x, false, w, true, 1f, 0f, y);
        Assert.Equal([1f, 2f, 3f], Values(y));
    }

    [Fact]
    public void AttentionForward_WithCacheLayer_MatchesTheRefCall()
    {
        var config = new AttentionConfig(2, 1, 2, 3);
        var cache = new KvCacheLayer(_ops.Allocate(new Shape(1, 3, 2), DType.F32), _ops.Allocate(new Shape(1, 3, 2), DType.F32), 3);
        float[] q = [1, 2, 3, 4, 5, 6, 7, 8], kv = [1, -1, 2, 0];
        var first = new AttentionBatch([0], [2], [0]);
        var y = F32(new Shape(2, 4));
        _ops.AttentionForward(F32(new Shape(2, 4), q), F32(new Shape(2, 2), kv), F32(new Shape(2, 2), kv), first, config, cache, y, null);
        _ops.KvCacheAppend(F32(new Shape(2, 2), kv), F32(new Shape(2, 2), kv), first, cache);
        Assert.Equal([1f, -1f, 2f, 0f, 0f, 0f], Values(cache.Keys));

        // Decode position 2 through the interface == the Ref with the same cache spans.
        float[] q2 = [0.5f, -1, 2, 1], kv2 = [3, 1];
        var step = new AttentionBatch([0], [1], [2]);
        var y2 = F32(new Shape(1, 4));
        _ops.AttentionForward(F32(new Shape(1, 4), q2), F32(new Shape(1, 2), kv2), F32(new Shape(1, 2), kv2), step, config, cache, y2, null);
        var expected = new float[4];
        AttentionRef.Forward(q2, kv2, kv2, step, config, new KvCacheSpans(Values(cache.Keys), Values(cache.Values), 3), expected, []);
        Assert.Equal(expected, Values(y2));
    }

    [Fact]
    public void Gemm_InnerDimensionMismatch_NamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.Gemm(F32(new Shape(2, 3)), false, F32(new Shape(4, 5)), true, 1, 0, F32(new Shape(2, 4))));
        Assert.Contains("gemm", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }

    [Fact]
    public void RmsNormForward_WeightOfWrongLength_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.RmsNormForward(F32(new Shape(3, 64)), F32(new Shape(63)), 1e-5f, F32(new Shape(3, 64)), null));
        Assert.Contains("rmsnorm_forward", ex.Message);
        Assert.Contains("[63]", ex.Message);
        Assert.Contains("[3, 64]", ex.Message);
    }

    [Fact]
    public void EmbeddingForward_TokenOutsideVocab_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.EmbeddingForward(_ops.Upload([0, 7], new Shape(2)), F32(new Shape(5, 4)), F32(new Shape(2, 4))));
        Assert.Contains("embedding_forward", ex.Message);
        Assert.Contains("token id 7 at [1]", ex.Message);
    }

    [Fact]
    public void EmbeddingForward_FloatTokens_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.EmbeddingForward(F32(new Shape(2)), F32(new Shape(5, 4)), F32(new Shape(2, 4))));
        Assert.Contains("tokens F32[2] must be I32", ex.Message);
    }

    [Fact]
    public void AttentionForward_KvWidthMismatch_Throws()
    {
        var config = new AttentionConfig(4, 2, 8, 16);
        var batch = AttentionBatch.FromLengths([3]);
        var ex = Assert.Throws<ArgumentException>(() =>
            _ops.AttentionForward(F32(new Shape(3, 32)), F32(new Shape(3, 8)), F32(new Shape(3, 8)), batch, config, null, F32(new Shape(3, 32)), null));
        Assert.Contains("attention_forward: k is [3, 8]", ex.Message);
    }

    [Fact]
    public void AttentionForward_HeadsNotDivisibleByKvHeads_Throws()
    {
        var config = new AttentionConfig(3, 2, 4, 16);
        var ex = Assert.Throws<ArgumentException>(() =>
            _ops.AttentionForward(F32(new Shape(1, 12)), F32(new Shape(1, 8)), F32(new Shape(1, 8)), AttentionBatch.FromLengths([1]), config, null, F32(new Shape(1, 12)), null));
        Assert.Contains("3 heads cannot share 2 kv heads", ex.Message);
    }

    [Fact]
    public void KvCacheAppend_CacheRowOutOfRange_Throws()
    {
        var cache = new KvCacheLayer(_ops.Allocate(new Shape(1, 4, 2), DType.F32), _ops.Allocate(new Shape(1, 4, 2), DType.F32), 4);
        var batch = new AttentionBatch([0], [1], [0], cacheRows: [1]);
        var ex = Assert.Throws<ArgumentException>(() => _ops.KvCacheAppend(F32(new Shape(1, 2)), F32(new Shape(1, 2)), batch, cache));
        Assert.Contains("cache row 1", ex.Message);
    }

    [Fact]
    public void RopeForward_OddHeadDim_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.RopeForward(F32(new Shape(2, 6)), _ops.Upload([0, 1], new Shape(2)), 3, 1e4f, F32(new Shape(2, 6))));
        Assert.Contains("rope_forward: head dim 3", ex.Message);
    }

    [Fact]
    public void CrossEntropyForward_TargetOutsideVocab_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            _ops.CrossEntropyForward(F32(new Shape(2, 5)), _ops.Upload([4, 5], new Shape(2)), F32(new Shape(2)), F32(new Shape(2))));
        Assert.Contains("target 5 at [1]", ex.Message);
    }

    [Fact]
    public void AdamWStep_Bf16Param_Throws()
    {
        var p = _ops.Allocate(new Shape(2), DType.BF16);
        var ex = Assert.Throws<ArgumentException>(() => _ops.AdamWStep(p, F32(new Shape(2)), F32(new Shape(2)), F32(new Shape(2)), new AdamWStepArgs(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1)));
        Assert.Contains("adamw_step: param BF16[2] must be F32", ex.Message);
    }

    [Fact]
    public void AttentionBackward_ThroughTheInterface_EqualsTheRef()
    {
        var config = new AttentionConfig(2, 1, 3, 2);
        var batch = AttentionBatch.FromLengths([3]);
        var rng = new Mistral.Kernels.Checks.Cases.CaseRandom(4);
        float[] q = rng.Normal(18), k = rng.Normal(9), v = rng.Normal(9), dY = rng.Normal(18);
        var (tq, tk, tv) = (F32(new Shape(3, 6), q), F32(new Shape(3, 3), k), F32(new Shape(3, 3), v));
        var (y, lse) = (F32(new Shape(3, 6)), F32(new Shape(2, 3)));
        _ops.AttentionForward(tq, tk, tv, batch, config, null, y, lse);
        var (dQ, dK, dV) = (F32(new Shape(3, 6)), F32(new Shape(3, 3)), F32(new Shape(3, 3)));
        _ops.AttentionBackward(tq, tk, tv, y, lse, F32(new Shape(3, 6), dY), batch, config, dQ, dK, dV);

        var (eq, ek, ev) = (new float[18], new float[9], new float[9]);
        AttentionRef.Backward(q, k, v, Values(y), Values(lse), dY, batch, config, eq, ek, ev);
        Assert.Equal(eq, Values(dQ));
        Assert.Equal(ek, Values(dK));
        Assert.Equal(ev, Values(dV));
    }

    [Fact]
    public void AttentionBackward_LseOfWrongShape_Throws()
    {
        var config = new AttentionConfig(2, 1, 3, 2);
        var batch = AttentionBatch.FromLengths([3]);
        var ex = Assert.Throws<ArgumentException>(() => _ops.AttentionBackward(F32(new Shape(3, 6)), F32(new Shape(3, 3)), F32(new Shape(3, 3)),
            F32(new Shape(3, 6)), F32(new Shape(3, 3)), F32(new Shape(3, 6)), batch, config, F32(new Shape(3, 6)), F32(new Shape(3, 3)), F32(new Shape(3, 3))));
        Assert.Contains("attention_backward: lse is [3, 3] (9 elements), expected [2, 3]", ex.Message);
    }

    [Fact]
    public void RmsNormBackward_DWeightAccumulatesThroughTheInterface()
    {
        // One row x = [3, 4], weight [1, 1], eps 0: rstd = 1/sqrt(12.5); dWeight += dY ⊙ x·rstd = [1, 1] ⊙ [0.8485281, 1.1313708]
        var x = F32(new Shape(1, 2), 3, 4);
        var w = F32(new Shape(2), 1, 1);
        var rstd = F32(new Shape(1));
        _ops.RmsNormForward(x, w, 0f, F32(new Shape(1, 2)), rstd);
        var dW = F32(new Shape(2), 10, 20);
        _ops.RmsNormBackward(x, w, rstd, F32(new Shape(1, 2), 1, 1), F32(new Shape(1, 2)), dW);
        TensorAssert.Close([10.848528f, 21.131371f], Values(dW), 1e-5, 0, "dWeight");
    }

    [Fact]
    public void ForeignTensor_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ops.Scale(new ForeignTensor(), 2f));
        Assert.Contains("belongs to another device", ex.Message);
    }

    private sealed class ForeignTensor() : Tensor(new Shape(1), DType.F32)
    {
        public override void Dispose() { }
    }
}
