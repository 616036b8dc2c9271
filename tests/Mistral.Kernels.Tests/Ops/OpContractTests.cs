using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// The IOps contract is checked in one place (OpContract) for every implementation: the same bad call gets the same
/// message from the cpu ops and from the cuda ops (on the emulated device), before anything runs.
/// </summary>
public sealed class OpContractTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    private static readonly Dictionary<string, (Action<IOps> Call, string Expected)> Calls = new()
    {
        ["rmsnorm-weight"] = (o => o.RmsNormForward(F32(o, 3, 64), F32(o, 63), 1e-5f, F32(o, 3, 64), null),
            "rmsnorm_forward: weight [63] must be [D] with D the last dimension of x [3, 64]"),
        ["rmsnorm-rstd"] = (o => o.RmsNormForward(F32(o, 3, 64), F32(o, 64), 1e-5f, F32(o, 3, 64), F32(o, 4)),
            "rmsnorm_forward: rstd is [4] (4 elements), expected [3] (one per row of x [3, 64]) (3 elements)"),
        ["gemm-inner"] = (o => o.Gemm(F32(o, 2, 3), false, F32(o, 4, 5), true, 1, 0, F32(o, 2, 4)),
            "gemm: inner dimensions differ (3 vs 5): op(a) = a[2, 3], op(b) = b[4, 5]ᵀ, c[2, 4]"),
        ["embedding-float-tokens"] = (o => o.EmbeddingForward(F32(o, 2), F32(o, 5, 4), F32(o, 2, 4)),
            "embedding_forward: tokens F32[2] must be I32"),
        ["rope-odd-head-dim"] = (o => o.RopeForward(F32(o, 2, 6), o.Upload([0, 1], new Shape(2)), 3, 1e4f, F32(o, 2, 6)),
            "rope_forward: head dim 3 must be positive and even (rotated in pairs)"),
        ["attention-kv-width"] = (o => o.AttentionForward(F32(o, 3, 32), F32(o, 3, 8), F32(o, 3, 8), AttentionBatch.FromLengths([3]),
                new AttentionConfig(4, 2, 8, 16), null, F32(o, 3, 32), null),
            "attention_forward: k is [3, 8] (24 elements), expected [3, 2·8] (tokens × kv heads·head dim) (48 elements)"),
        ["kv-cache-row"] = (o => o.KvCacheAppend(F32(o, 1, 16), F32(o, 1, 16), new AttentionBatch([0], [1], [0], cacheRows: [1]),
                new KvCacheLayer(F32(o, 1, 4, 16), F32(o, 1, 4, 16), 4)),
            "kv_cache_append: sequence 0 uses cache row 1, the cache has 1 rows"),
        ["swiglu-up"] = (o => o.SwiGluForward(F32(o, 2, 8), F32(o, 2, 7), F32(o, 2, 8)),
            "swiglu_forward: up is [2, 7] but gate is [2, 8]; they must match"),
        ["argmax-ids"] = (o => o.Argmax(F32(o, 3, 10), o.Upload([0, 0], new Shape(2))),
            "argmax: ids is [2] (2 elements), expected [3] (one per row of logits [3, 10]) (3 elements)"),
        ["cross-entropy-dlogits"] = (o => o.CrossEntropyBackward(F32(o, 2, 5), o.Upload([1, 2], new Shape(2)), F32(o, 2), 1f, F32(o, 2, 4)),
            "cross_entropy_backward: dLogits is [2, 4] but logits is [2, 5]; they must match"),
        ["adamw-bf16-param"] = (o => o.AdamWStep(o.Allocate(new Shape(2), DType.BF16), F32(o, 2), F32(o, 2), F32(o, 2), new AdamWStepArgs(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1)),
            "adamw_step: param BF16[2] must be F32"),
        ["adamw-multi-m-shape"] = (o => o.AdamWStep([new AdamWTensors(F32(o, 2), F32(o, 2), F32(o, 2), F32(o, 2), 0f), new AdamWTensors(F32(o, 3), F32(o, 3), F32(o, 4), F32(o, 3), 0.1f)],
                new AdamWStepArgs(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1)),
            "adamw_step [1]: m is [4] but param is [3]; they must match"),
        ["sum-of-squares-bf16"] = (o => o.SumOfSquares([F32(o, 2), o.Allocate(new Shape(3), DType.BF16)]),
            "sum_of_squares: x[1] BF16[3] must be F32"),
    };

    public static TheoryData<string> Names => [.. Calls.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_CpuAndEmulatedCuda_ThrowTheSameMessage(string name)
    {
        var (call, expected) = Calls[name];
        using var cpu = new CpuOps();
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        var onCpu = Assert.Throws<ArgumentException>(() => call(cpu));
        var onCuda = Assert.Throws<ArgumentException>(() => call(cuda));
        Assert.Equal(expected, onCpu.Message);
        Assert.Equal(expected, onCuda.Message);
    }

    private static Tensor F32(IOps ops, params int[] dims) => ops.Allocate(new Shape(dims), DType.F32);
}
