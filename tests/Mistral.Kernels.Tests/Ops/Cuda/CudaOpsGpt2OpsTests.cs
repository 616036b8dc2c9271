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
/// GPT-2's ops (LayerNorm, GELU, bias) through <see cref="IOps"/>: <see cref="CudaOps"/> on the
/// emulated device against <see cref="CpuOps"/> — the wiring (validation, dtype rules, the pool), not the kernels'
/// case sweeps (those are the XxxKernelTests).
/// </summary>
public sealed class CudaOpsGpt2OpsTests(DeviceFixture devices) : IClassFixture<DeviceFixture>
{
    private const double F32Abs = KernelTolerance.F32Absolute, F32Rel = KernelTolerance.F32Relative;
    private const int Tokens = 7, Dim = 33;

    [Fact]
    public void LayerNormGeluBias_ForwardAndBackward_MatchCpuOps()
    {
        var rng = new CaseRandom(1260);
        var x = rng.Normal(Tokens * Dim, 2f);
        var (w, b) = (rng.Uniform(Dim, 0.5f, 1.5f), rng.Normal(Dim));
        var dY = rng.Normal(Tokens * Dim);
        var start = rng.Normal(Dim);   // parameter gradients accumulate into it
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        var expected = Run(cpu);
        var actual = Run(cuda);
        string[] names = ["layernorm y", "mean", "rstd", "layernorm dX", "dWeight", "dBias", "gelu y", "gelu dX", "bias y", "bias dBias"];
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(expected[i], actual[i], F32Abs, F32Rel, names[i]);
        Assert.Equal(0, cuda.Pool.AllocatedBytes);

        float[][] Run(IOps ops)
        {
            var shape = new Shape(Tokens, Dim);
            using var tx = ops.Upload(x, shape, DType.F32);
            using var tw = ops.Upload(w, new Shape(Dim), DType.F32);
            using var tb = ops.Upload(b, new Shape(Dim), DType.F32);
            using var tdy = ops.Upload(dY, shape, DType.F32);
            using var y = ops.Allocate(shape, DType.F32);
            using var mean = ops.Allocate(new Shape(Tokens), DType.F32);
            using var rstd = ops.Allocate(new Shape(Tokens), DType.F32);
            using var dX = ops.Allocate(shape, DType.F32);
            using var dW = ops.Upload(start, new Shape(Dim), DType.F32);
            using var dB = ops.Upload(start, new Shape(Dim), DType.F32);
            using var gelu = ops.Allocate(shape, DType.F32);
            using var dGelu = ops.Allocate(shape, DType.F32);
            using var biased = ops.Allocate(shape, DType.F32);
            using var dBias = ops.Upload(start, new Shape(Dim), DType.F32);
            ops.LayerNormForward(tx, tw, tb, 1e-5f, y, mean, rstd);
            ops.LayerNormBackward(tx, tw, mean, rstd, tdy, dX, dW, dB);
            ops.GeluForward(tx, GeluApproximation.Tanh, gelu);
            ops.GeluBackward(tx, tdy, GeluApproximation.Erf, dGelu);
            ops.BiasAdd(tx, tb, biased);
            ops.BiasBackward(tdy, dBias);
            return [Get(y), Get(mean), Get(rstd), Get(dX), Get(dW), Get(dB), Get(gelu), Get(dGelu), Get(biased), Get(dBias)];

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
        // Trained LayerNorm weights/biases and linear biases stay fp32 while bf16 activations flow: the op must equal
        // the same op on the parameters rounded to bf16 (they are read in the activations' storage).
        var rng = new CaseRandom(78);
        var x = rng.Normal(Tokens * Dim);
        var (w, b) = (rng.Normal(Dim), rng.Normal(Dim));
        var (wRounded, bRounded) = ((float[])w.Clone(), (float[])b.Clone());
        FloatBits.RoundToBFloat16(wRounded);
        FloatBits.RoundToBFloat16(bRounded);
        using var ops = new CudaOps(devices.Get("emu"), DType.BF16);
        using var tx = ops.Upload(x, new Shape(Tokens, Dim), DType.BF16);

        float[] Run(float[] wValues, float[] bValues, DType parameterType)
        {
            using var tw = ops.Upload(wValues, new Shape(Dim), parameterType);
            using var tb = ops.Upload(bValues, new Shape(Dim), parameterType);
            using var normed = ops.Allocate(new Shape(Tokens, Dim), DType.BF16);
            using var biased = ops.Allocate(new Shape(Tokens, Dim), DType.BF16);
            ops.LayerNormForward(tx, tw, tb, 1e-5f, normed, null, null);
            ops.BiasAdd(tx, tb, biased);
            var result = new float[2 * Tokens * Dim];
            ops.Download(normed, result.AsSpan(0, Tokens * Dim));
            ops.Download(biased, result.AsSpan(Tokens * Dim));
            return result;
        }

        long held = ops.Pool.AllocatedBytes;
        Assert.Equal(Run(wRounded, bRounded, DType.BF16), Run(w, b, DType.F32));
        Assert.Equal(held, ops.Pool.AllocatedBytes);   // the rounded copies went back to the pool
    }

    [Fact]
    public void LayerNormForward_MeanWithoutRstd_ThrowsOnEveryDevice()
    {
        using var cuda = new CudaOps(devices.Get("emu"), DType.F32);
        using var cpu = new CpuOps();
        foreach (IOps ops in new IOps[] { cpu, cuda })
        {
            using var x = ops.Allocate(new Shape(2, 4), DType.F32);
            using var p = ops.Allocate(new Shape(4), DType.F32);
            using var mean = ops.Allocate(new Shape(2), DType.F32);
            var e = Assert.Throws<ArgumentException>(() => ops.LayerNormForward(x, p, p, 1e-5f, x, mean, null));
            Assert.Contains("mean and rstd", e.Message);
        }
    }
}
