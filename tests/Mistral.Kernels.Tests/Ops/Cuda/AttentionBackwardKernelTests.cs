using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>
/// kernels/cu/attention_backward.cu through <see cref="CudaOps.AttentionBackward"/> on the emulated device (and a GPU
/// when present) against AttentionRef.Backward, over the cache-free cases of <see cref="AttentionCases"/>. Both sides get
/// the same (storage-rounded) q, k, v, dY and the oracle's own y and lse, so only the backward is under test.
/// </summary>
public sealed class AttentionBackwardKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    // fp32: the same fp32 products as the oracle in another order (tiles instead of key by key; P from expf of the
    // same lse). Gradients are sums of up to (window × group) terms of O(1–10). Measured worst on the emulator:
    // 4.8e-6 absolute (dV of ragged-gqa4-hd64, |value| 10.6: 4.5e-7 relative); every other case ≤ 3.1e-6.
    private const double F32Abs = 1e-5, F32Rel = 1e-5;
    // bf16: both sides round an fp32 result to bf16 (the kernel reads bf16 inputs, the oracle the same values widened),
    // so fp32 noise can flip a rounding: one bf16 ulp, ≤ 2^-7 relative. Measured: only such flips, worst 3.9e-3 on
    // 0.85 (dV, ragged-gqa4-hd64); the absolute part covers values near zero.
    private const double Bf16Abs = 1e-4, Bf16Rel = 1.0 / 128;

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var device in DeviceFixture.Kinds)
            foreach (var c in AttentionCases.Everything.Where(c => c.SupportsBackward && AttentionBackwardKernel.HeadDims.Contains(c.HeadDim)))
                foreach (var dtype in new[] { "F32", "BF16" })
                    data.Add(device, c.Name, dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_CacheFreeCases_MatchesReference(string deviceKind, string caseName, string dtypeName)
    {
        var c = AttentionCases.Get(caseName);
        var dtype = Enum.Parse<DType>(dtypeName);
        using var ops = new CudaOps(devices.Get(deviceKind), dtype);
        var config = c.Config;
        var batch = c.Batch();
        var data = c.Build();
        var (q, k, v, dY) = (Rounded(data.Q, dtype), Rounded(data.K, dtype), Rounded(data.V, dtype), Rounded(data.DY, dtype));
        int T = batch.TotalTokens;
        var y = new float[q.Length];
        var lse = new float[config.NHeads * T];
        AttentionRef.Forward(q, k, v, batch, config, y, lse);
        y = Rounded(y, dtype);   // what a bf16 forward would have stored
        var (dQ, dK, dV) = (new float[q.Length], new float[k.Length], new float[v.Length]);
        AttentionRef.Backward(q, k, v, y, lse, dY, batch, config, dQ, dK, dV);

        var qShape = new Shape(T, config.NHeads * config.HeadDim);
        var kvShape = new Shape(T, config.NKvHeads * config.HeadDim);
        using var tq = ops.Upload(q, qShape, dtype);
        using var tk = ops.Upload(k, kvShape, dtype);
        using var tv = ops.Upload(v, kvShape, dtype);
        using var ty = ops.Upload(y, qShape, dtype);
        using var tl = ops.Upload(lse, new Shape(config.NHeads, T), DType.F32);
        using var tdy = ops.Upload(dY, qShape, dtype);
        using var tdq = ops.Allocate(qShape, dtype);
        using var tdk = ops.Allocate(kvShape, dtype);
        using var tdv = ops.Allocate(kvShape, dtype);
        foreach (var g in new[] { tdq, tdk, tdv }) ops.Fill(g, float.NaN);   // overwritten, not accumulated
        ops.AttentionBackward(tq, tk, tv, ty, tl, tdy, batch, config, tdq, tdk, tdv);

        var (abs, rel) = dtype == DType.F32 ? (F32Abs, F32Rel) : (Bf16Abs, Bf16Rel);
        foreach (var (name, expected, actual) in new[] { ("dQ", dQ, tdq), ("dK", dK, tdk), ("dV", dV, tdv) })
        {
            var got = new float[expected.Length];
            ops.Download(actual, got);
            TensorAssert.Close(Rounded(expected, dtype), got, abs, rel, $"{caseName} {dtypeName} {name}");
        }
    }

    [Fact]
    public void Backward_WithoutMatchingShapes_ThrowsNamingTheOp()
    {
        using var ops = new CudaOps(devices.Get("emu"), DType.F32);
        var config = new AttentionConfig(4, 2, 16, 16);
        var batch = AttentionBatch.FromLengths([5]);
        using var q = ops.Allocate(new Shape(5, 64), DType.F32);
        using var kv = ops.Allocate(new Shape(5, 32), DType.F32);
        using var lse = ops.Allocate(new Shape(4, 4), DType.F32);   // should be [4, 5]
        var e = Assert.Throws<ArgumentException>(() => ops.AttentionBackward(q, kv, kv, q, lse, q, batch, config, q, kv, kv));
        Assert.Contains("attention_backward: lse", e.Message);
        var config24 = new AttentionConfig(2, 2, 24, 16);
        using var q24 = ops.Allocate(new Shape(5, 48), DType.F32);
        using var lse2 = ops.Allocate(new Shape(2, 5), DType.F32);
        Assert.Throws<ArgumentException>(() => ops.AttentionBackward(q24, q24, q24, q24, lse2, q24, batch, config24, q24, q24, q24));
    }

    private static float[] Rounded(float[] values, DType dtype)
    {
        var copy = (float[])values.Clone();
        ElementwiseRef.RoundTo(dtype, copy);
        return copy;
    }
}
