using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// kernels/cu/attention.cu, attention_decode.cu and kv_cache.cu through <see cref="CudaOps"/> on the emulated device
/// (and on a GPU when one is present) against the CPU oracle, over <see cref="AttentionCases"/>. Inputs are drawn
/// N(0, 1) and, for bf16, rounded to bf16 before both sides see them, so only the kernels' own rounding differs.
/// </summary>
public sealed class AttentionKernelTests
{
    // fp32: scores, online softmax and P·V in fp32 FMAs, in another order than the oracle and with exp2 instead of exp;
    // outputs are O(1) averages: a few ulps. Measured worst on the emulator 1.4e-6 (y), 1.4e-6 (lse).
    private const double F32Abs = 2e-5, F32Rel = 1e-5;
    // bf16: y is stored in bf16 (half-ulp 2^-9 relative) and P is rounded to bf16 before P·V (2^-9 relative per
    // weight), so |Δy| ≲ 2·2^-9·max|v|; max|v| of ~4 for these samples gives 1.6e-2. lse stays fp32 (tight).
    private const double Bf16Abs = 2e-2, Bf16Rel = 1e-2, Bf16LseAbs = 1e-4;

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var device in new[] { "emu", "cuda" })
            foreach (var c in AttentionCases.All)
                foreach (var dtype in new[] { "F32", "BF16" })
                    data.Add(device, c.Name, dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_AwkwardShapes_MatchesReference(string deviceKind, string caseName, string dtypeName)
    {
        var c = AttentionCases.All.Single(x => x.Name == caseName);
        var dtype = Enum.Parse<DType>(dtypeName);
        using var device = TestDevices.Open(deviceKind);
        using var ops = new CudaOps(device, dtype);
        using var cpu = new CpuOps();

        var config = c.Config;
        var batch = c.Batch();
        int T = batch.TotalTokens, qWidth = config.NHeads * config.HeadDim, kvWidth = config.NKvHeads * config.HeadDim;
        var rng = new CaseRandom(HashCode.Combine(caseName.Length, T, config.HeadDim));
        var q = Rounded(rng.Normal(T * qWidth), dtype);
        var k = Rounded(rng.Normal(T * kvWidth), dtype);
        var v = Rounded(rng.Normal(T * kvWidth), dtype);
        int rows = c.Lengths.Length, slots = Math.Max(1, c.CacheSlots);
        var cacheK = Rounded(rng.Normal(rows * slots * kvWidth), dtype);
        var cacheV = Rounded(rng.Normal(rows * slots * kvWidth), dtype);

        var (expectedY, expectedLse) = Run(cpu, DType.F32, c, q, k, v, cacheK, cacheV);
        var (actualY, actualLse) = Run(ops, dtype, c, q, k, v, cacheK, cacheV);

        if (dtype == DType.F32)
        {
            TensorAssert.Close(expectedY, actualY, F32Abs, F32Rel, $"{caseName} f32 y");
            TensorAssert.Close(expectedLse, actualLse, F32Abs, F32Rel, $"{caseName} f32 lse");
        }
        else
        {
            TensorAssert.Close(expectedY, actualY, Bf16Abs, Bf16Rel, $"{caseName} bf16 y");
            TensorAssert.Close(expectedLse, actualLse, Bf16LseAbs, 0, $"{caseName} bf16 lse");
        }
        Assert.Equal(0, ops.Pool.InUseBytes);
    }

    [Theory]
    [InlineData("emu", "F32")]
    [InlineData("emu", "BF16")]
    [InlineData("cuda", "BF16")]
    public void KvCacheAppend_ChunksAndWraps_MatchesReference(string deviceKind, string dtypeName)
    {
        var dtype = Enum.Parse<DType>(dtypeName);
        using var device = TestDevices.Open(deviceKind);
        using var ops = new CudaOps(device, dtype);
        using var cpu = new CpuOps();
        // sequence 0: 20 tokens from position 5 into 16 slots (only the last 16 land; wraps); sequence 1: 3 tokens at 14
        var batch = new AttentionBatch([0, 20], [20, 3], [5, 14], [1, 0]);
        const int kvWidth = 2 * 16, slots = 16, rows = 2;
        var rng = new CaseRandom(7);
        var k = Rounded(rng.Normal(23 * kvWidth), dtype);
        var v = Rounded(rng.Normal(23 * kvWidth), dtype);
        var before = Rounded(rng.Normal(rows * slots * kvWidth), dtype);

        float[] Append(IOps o, DType storage, out float[] values)
        {
            using var kt = o.Upload(k, new Shape(23, kvWidth), storage);
            using var vt = o.Upload(v, new Shape(23, kvWidth), storage);
            using var ck = o.Upload(before, new Shape(rows, slots, kvWidth), storage);
            using var cv = o.Upload(before, new Shape(rows, slots, kvWidth), storage);
            o.KvCacheAppend(kt, vt, batch, new KvCacheLayer(ck, cv, slots));
            var keys = new float[before.Length];
            values = new float[before.Length];
            o.Download(ck, keys);
            o.Download(cv, values);
            return keys;
        }

        var expectedK = Append(cpu, DType.F32, out var expectedV);
        var actualK = Append(ops, dtype, out var actualV);
        Assert.Equal(expectedK, actualK);   // a copy: bit-exact
        Assert.Equal(expectedV, actualV);
    }

    [Fact]
    public void Forward_BadShapes_ThrowNamingTheOp()
    {
        using var device = TestDevices.Emulated();
        using var ops = new CudaOps(device, DType.F32);
        var config = new AttentionConfig(4, 2, 16, 16);
        var batch = AttentionBatch.FromLengths([5]);
        using var q = ops.Allocate(new Shape(5, 64), DType.F32);
        using var k = ops.Allocate(new Shape(5, 16), DType.F32);   // should be [5, 32]
        using var y = ops.Allocate(new Shape(5, 64), DType.F32);
        var e = Assert.Throws<ArgumentException>(() => ops.AttentionForward(q, k, k, batch, config, null, y, null));
        Assert.Contains("attention_forward: k", e.Message);
        using var bf = ops.Allocate(new Shape(5, 64), DType.BF16);
        e = Assert.Throws<ArgumentException>(() => ops.AttentionForward(bf, k, k, batch, config, null, y, null));
        Assert.Contains("must be F32", e.Message);
    }

    private static (float[] Y, float[] Lse) Run(IOps ops, DType dtype, AttentionCase c, float[] q, float[] k, float[] v, float[] cacheK, float[] cacheV)
    {
        var config = c.Config;
        var batch = c.Batch();
        int T = batch.TotalTokens;
        using var qt = ops.Upload(q, new Shape(T, config.NHeads * config.HeadDim), dtype);
        using var kt = ops.Upload(k, new Shape(T, config.NKvHeads * config.HeadDim), dtype);
        using var vt = ops.Upload(v, new Shape(T, config.NKvHeads * config.HeadDim), dtype);
        using var y = ops.Allocate(new Shape(T, config.NHeads * config.HeadDim), dtype);
        using var lse = ops.Allocate(new Shape(config.NHeads, T), DType.F32);
        int slots = Math.Max(1, c.CacheSlots), rows = c.Lengths.Length;
        using var ck = ops.Upload(cacheK, new Shape(rows, slots, config.NKvHeads * config.HeadDim), dtype);
        using var cv = ops.Upload(cacheV, new Shape(rows, slots, config.NKvHeads * config.HeadDim), dtype);
        ops.AttentionForward(qt, kt, vt, batch, config, c.HasCache ? new KvCacheLayer(ck, cv, c.CacheSlots) : null, y, lse);
        var outY = new float[y.ElementCount];
        var outLse = new float[lse.ElementCount];
        ops.Download(y, outY);
        ops.Download(lse, outLse);
        return (outY, outLse);
    }

    private static float[] Rounded(float[] values, DType dtype)
    {
        if (dtype == DType.BF16) FloatBits.RoundToBFloat16(values);
        return values;
    }
}
