using Mistral.Kernels.Checks;
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
/// The training ops through <see cref="IOps"/>: <see cref="CudaOps"/> on the emulated device against <see cref="CpuOps"/>
/// fed the same fp32 inputs — the wiring (validation, the pool, host-side reductions), not the kernels' case sweeps
/// (those are the XxxKernelTests).
/// </summary>
public sealed class CudaOpsTrainingTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    private const double F32Abs = KernelTolerance.F32Absolute, F32Rel = KernelTolerance.F32Relative;

    [Fact]
    public void CrossEntropy_TinyTrainBatch_MatchesCpuOps()
    {
        var c = CrossEntropyCases.Get("t46_v32000_tiny_train");
        var data = c.Build();
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        var (expectedTotal, expectedLosses, expectedGrad) = Run(cpu);
        var (total, losses, grad) = Run(cuda);
        // Σ w·loss is summed in fp64 on the host from the per-token losses, in token order, as the reference does.
        Assert.Equal(expectedTotal, total, 1e-5 * Math.Abs(expectedTotal));
        TensorAssert.Close(expectedLosses, losses, F32Abs, F32Rel, "losses");
        TensorAssert.Close(expectedGrad, grad, F32Abs, F32Rel, "dLogits");
        Assert.Equal(0, cuda.Pool.AllocatedBytes);

        (double, float[], float[]) Run(IOps ops)
        {
            using var logits = ops.Upload(data.Logits, new Shape(c.Tokens, c.Vocab), DType.F32);
            using var targets = ops.Upload(data.Targets, new Shape(c.Tokens));
            using var weights = ops.Upload(data.Weights, new Shape(c.Tokens), DType.F32);
            using var lossT = ops.Allocate(new Shape(c.Tokens), DType.F32);
            double sum = ops.CrossEntropyForward(logits, targets, weights, lossT);
            ops.CrossEntropyBackward(logits, targets, weights, c.Scale, logits);   // in place, as the trainer may
            var l = new float[c.Tokens];
            var g = new float[data.Logits.Length];
            ops.Download(lossT, l);
            ops.Download(logits, g);
            return (sum, l, g);
        }
    }

    [Fact]
    public void CrossEntropy_TargetOutsideVocab_ThrowsNamingTheToken()
    {
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var logits = cuda.Allocate(new Shape(3, 5), DType.F32);
        using var targets = cuda.Upload([1, 5, 0], new Shape(3));
        using var weights = cuda.Upload([1f, 1f, 1f], new Shape(3), DType.F32);
        using var losses = cuda.Allocate(new Shape(3), DType.F32);
        var e = Assert.Throws<ArgumentException>(() => cuda.CrossEntropyForward(logits, targets, weights, losses));
        Assert.Contains("cross_entropy_forward: the target at [1]", e.Message);
    }

    [Fact]
    public void AdamWAndGradNorm_FiveSteps_BitIdenticalToCpuOps()
    {
        var c = AdamWCases.Get("n4097_clipped");
        var data = c.Build();
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        var (expected, expectedNorms) = Run(cpu);
        var (actual, norms) = Run(cuda);
        Assert.Equal(expected, actual);   // bit for bit: resume on the device must reproduce an uninterrupted run
        for (int i = 0; i < norms.Length; i++) Assert.Equal(expectedNorms[i], norms[i], 1e-6 * expectedNorms[i]);

        (float[], double[]) Run(IOps ops)
        {
            var shape = new Shape(c.Length);
            using var param = ops.Upload(data.Param, shape, DType.F32);
            using var m = ops.Allocate(shape, DType.F32);
            using var v = ops.Allocate(shape, DType.F32);
            var sums = new double[c.Steps];
            for (int step = 1; step <= c.Steps; step++)
            {
                using var grad = ops.Upload(data.Grads[step - 1], shape, DType.F32);
                sums[step - 1] = ops.SumOfSquares(grad);
                ops.AdamWStep(param, grad, m, v, c.Args with { Step = step });
            }
            var result = new float[c.Length];
            ops.Download(param, result);
            return (result, sums);
        }
    }

    [Fact]
    public void MultiTensorAdamWAndGlobalNorm_ManyOddTensors_MatchCpuOps()
    {
        // an empty tensor among odd sizes and ones that straddle the kernel's chunk; each tensor its own weight decay
        int[] lengths = [5, 0, 1, AdamWKernel.ChunkElements + 3, 77, 2 * AdamWKernel.ChunkElements, 9];
        var rng = new CaseRandom(31);
        var start = lengths.Select(l => rng.Normal(l)).ToArray();
        var grads = Enumerable.Range(0, 4).Select(_ => lengths.Select(l => rng.Normal(l, 0.01f)).ToArray()).ToArray();
        var args = AdamWCases.Get("n4097_clipped").Args;
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        var (expected, expectedNorms) = Run(cpu);
        var (actual, norms) = Run(cuda);
        Assert.Equal(expected, actual);   // bit for bit, as the one-tensor step
        for (int i = 0; i < norms.Length; i++) Assert.Equal(expectedNorms[i], norms[i], 1e-13 * expectedNorms[i]);

        (float[], double[]) Run(IOps ops)
        {
            var tensors = lengths.Select((l, t) => new AdamWTensors(ops.Upload(start[t], new Shape(l), DType.F32), ops.Allocate(new Shape(l), DType.F32),
                ops.Allocate(new Shape(l), DType.F32), ops.Allocate(new Shape(l), DType.F32), t % 2 == 0 ? 0.1f : 0f)).ToArray();
            var sums = new double[grads.Length];
            for (int step = 1; step <= grads.Length; step++)
            {
                for (int t = 0; t < lengths.Length; t++)
                {
                    using var g = ops.Upload(grads[step - 1][t], new Shape(lengths[t]), DType.F32);
                    ops.Copy(g, tensors[t].Grad);
                }
                sums[step - 1] = ops.SumOfSquares(tensors.Select(t => t.Grad).ToArray());
                ops.AdamWStep(tensors, args with { Step = step, GradScale = (float)(1 / Math.Max(1, Math.Sqrt(sums[step - 1]))) });
            }
            var result = new List<float>();
            foreach (var t in tensors)
            {
                var values = new float[t.Param.ElementCount];
                ops.Download(t.Param, values);
                result.AddRange(values);
                foreach (var x in new[] { t.Param, t.Grad, t.M, t.V }) x.Dispose();
            }
            return (result.ToArray(), sums);
        }
    }

    [Fact]
    public void RmsNormSwiGluEmbeddingBackward_MatchCpuOps()
    {
        const int tokens = 7, dim = 33, vocab = 11;
        var rng = new CaseRandom(2024);
        var x = rng.Normal(tokens * dim);
        var w = rng.Normal(dim);
        var dY = rng.Normal(tokens * dim);
        var up = rng.Normal(tokens * dim);
        var dWeightStart = rng.Normal(dim);
        int[] ids = [3, 0, 3, 10, 5, 3, 1];
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        var expected = Run(cpu);
        var actual = Run(cuda);
        string[] names = ["rmsnorm dX", "rmsnorm dWeight", "swiglu dGate", "swiglu dUp", "embedding dTable"];
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(expected[i], actual[i], F32Abs, F32Rel, names[i]);

        float[][] Run(IOps ops)
        {
            var shape = new Shape(tokens, dim);
            using var tx = ops.Upload(x, shape, DType.F32);
            using var tw = ops.Upload(w, new Shape(dim), DType.F32);
            using var tdy = ops.Upload(dY, shape, DType.F32);
            using var tup = ops.Upload(up, shape, DType.F32);
            using var rstd = ops.Allocate(new Shape(tokens), DType.F32);
            using var y = ops.Allocate(shape, DType.F32);
            using var dX = ops.Allocate(shape, DType.F32);
            using var dW = ops.Upload(dWeightStart, new Shape(dim), DType.F32);
            using var dGate = ops.Allocate(shape, DType.F32);
            using var dUp = ops.Allocate(shape, DType.F32);
            using var tids = ops.Upload(ids, new Shape(tokens));
            using var dTable = ops.Upload(Enumerable.Repeat(0.5f, vocab * dim).ToArray(), new Shape(vocab, dim), DType.F32);
            var rstdHost = new float[tokens];
            RmsNormRef.Forward(x, w, 1e-5f, new float[x.Length], rstdHost);   // the saved rstd, as the forward leaves it
            using var trstd = ops.Upload(rstdHost, new Shape(tokens), DType.F32);
            ops.RmsNormBackward(tx, tw, trstd, tdy, dX, dW);
            ops.SwiGluBackward(tx, tup, tdy, dGate, dUp);
            ops.EmbeddingBackward(tids, tdy, dTable);
            return [Get(dX), Get(dW), Get(dGate), Get(dUp), Get(dTable)];

            float[] Get(Tensor t)
            {
                var values = new float[t.ElementCount];
                ops.Download(t, values);
                return values;
            }
        }
    }

    [Fact]
    public void Bf16Activations_Fp32Parameters_RunOnARoundedCopy()
    {
        // LoRA A/B and trained norm weights stay fp32 while bf16 activations flow: the op must equal the same op on the
        // parameter rounded to bf16 (that is the contract: the parameter is read in the activations' storage).
        const int tokens = 5, dim = 48, rank = 4;
        var rng = new CaseRandom(77);
        var x = rng.Normal(tokens * dim);
        var a = rng.Normal(rank * dim);
        var w = rng.Normal(dim);
        var aRounded = (float[])a.Clone();
        var wRounded = (float[])w.Clone();
        FloatBits.RoundToBFloat16(aRounded);
        FloatBits.RoundToBFloat16(wRounded);
        using var ops = new CudaOps(devices.Get("emu"), DType.BF16);
        using var tx = ops.Upload(x, new Shape(tokens, dim), DType.BF16);

        float[] Run(float[] aValues, DType aType, float[] wValues, DType wType)
        {
            using var ta = ops.Upload(aValues, new Shape(rank, dim), aType);
            using var tw = ops.Upload(wValues, new Shape(dim), wType);
            using var u = ops.Allocate(new Shape(tokens, rank), DType.F32);
            using var y = ops.Allocate(new Shape(tokens, dim), DType.BF16);
            using var rstd = ops.Allocate(new Shape(tokens), DType.F32);
            ops.Gemm(tx, false, ta, true, 1f, 0f, u);
            ops.RmsNormForward(tx, tw, 1e-5f, y, rstd);
            var result = new float[tokens * rank + tokens * dim];
            ops.Download(u, result.AsSpan(0, tokens * rank));
            ops.Download(y, result.AsSpan(tokens * rank));
            return result;
        }

        long held = ops.Pool.AllocatedBytes;
        Assert.Equal(Run(aRounded, DType.BF16, wRounded, DType.BF16), Run(a, DType.F32, w, DType.F32));
        Assert.Equal(held, ops.Pool.AllocatedBytes);   // the rounded copies went back to the pool
    }
}
