using Mistral.Kernels.Checks;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;
using Mistral.Kernels.Tests.Ops.Cuda;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// kernels/cu/attention.cu, attention_decode.cu, attention_backward.cu and kv_cache.cu through <see cref="CudaOps"/> on
/// the emulated device (and on a GPU when one is present) against the CPU oracle: the cases of
/// <see cref="AttentionChecks"/>, the same ones `mistral-cu selftest` runs.
/// </summary>
public sealed class AttentionKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(AttentionChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, AttentionChecks.All(), check);

    // The prefill's double-buffered tiles: a warp that skips a tile (outside its rows' window or above their diagonal)
    // starts copying tile i+2 into the buffer the other warps may still read; only the barrier ending each round keeps
    // them apart (without it both cases fail, measured). Here under another fiber order.
    [Theory]
    [InlineData("attention_prefill f32 chunk-hd32-two-blocks")]
    [InlineData("attention_prefill bf16 odd-t-window-is-block-hd128-gqa4")]
    public void Prefill_OtherThreadOrder_MatchesReference(string check)
    {
        using var device = new EmulatedDevice(KernelSources.Embedded(), new EmulatedDeviceOptions(TestDevices.CacheDirectory, ScheduleSeed: 7));
        KernelComparison result;
        using (var scope = new DeviceScope(device)) result = AttentionChecks.All().Single(c => c.Name == check).Run(scope);
        Assert.Null(result.Failure());
    }

    [Fact]
    public void Forward_BadShapes_ThrowNamingTheOp()
    {
        using var ops = new CudaOps(devices.Get("emu"), DType.F32);
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
}
