using Mistral.Kernels.Checks;
using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Ops.Cuda;

/// <summary>kernels/cu/embedding.cu through EmbeddingKernel on the emulated device (and a real GPU when present) vs the CPU reference.</summary>
public sealed class EmbeddingKernelTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    public static TheoryData<string, string> Cases() => KernelCheckRunner.Rows(EmbeddingChecks.All());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_AwkwardShapes_MatchesReference(string device, string check) =>
        KernelCheckRunner.Run(devices, device, EmbeddingChecks.All(), check);

    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    public void Backward_HotTokens_BitIdenticalRunToRunAndToTheReference(string dtypeName)
    {
        // Without atomics the order of additions is fixed (token order): two runs give the same bits, and those of
        // EmbeddingRef, which adds in the same order. 300 tokens over a vocabulary of 5 (each row ~60 times) and a
        // vocabulary id past the first slice make any order dependence visible in the low bits.
        var dtype = Enum.Parse<DType>(dtypeName);
        const int count = 300, vocab = 70, dim = 45;
        var rng = new CaseRandom(5150);
        var ids = rng.Ints(count, 5).Select((id, t) => t % 7 == 0 ? vocab - 1 : id).ToArray();
        var dY = rng.Normal(count * dim);
        if (dtype == DType.BF16) FloatBits.RoundToBFloat16(dY);   // both sides see the stored values
        var start = rng.Normal(vocab * dim);
        var expected = (float[])start.Clone();
        EmbeddingRef.Backward(ids, dY, dim, expected);

        using var ops = new CudaOps(devices.Get("emu"), dtype);
        using var tids = ops.Upload(ids, new Shape(count));
        using var tdy = ops.Upload(dY, new Shape(count, dim), dtype);
        float[] Run()
        {
            using var dTable = ops.Upload(start, new Shape(vocab, dim), DType.F32);
            ops.EmbeddingBackward(tids, tdy, dTable);
            var result = new float[vocab * dim];
            ops.Download(dTable, result);
            return result;
        }
        var first = Run();
        Assert.Equal(first, Run());
        Assert.Equal(expected, first);
    }
}
