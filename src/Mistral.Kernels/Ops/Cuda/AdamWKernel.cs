using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/adamw.cu: the AdamW step and the squared norm of a gradient. Legend: N = elements.</summary>
public static class AdamWKernel
{
    private const int Threads = 256;

    /// <summary>Blocks of the sum-of-squares partials: enough to fill a GPU, and a function of N only (deterministic).</summary>
    public const int MaxPartials = 1024;

    /// <summary>
    /// One AdamW step on fp32 param, m, v (in place) from an fp32 grad of one shape (the IOps contract, checked by the
    /// ops), exactly as <see cref="Reference.AdamWRef.Step"/>:
    /// the scalar factors are formed here in fp64 by the same expressions, the kernel does the fp32 element math.
    /// </summary>
    public static void Step(IDevice device, DeviceTensor param, DeviceTensor grad, DeviceTensor m, DeviceTensor v, AdamWStepArgs step)
    {
        var f = Reference.AdamWRef.Factors(step);
        var args = new KernelArgs();
        args.Add(param.Pointer);
        args.Add(grad.Pointer);
        args.Add(m.Pointer);
        args.Add(v.Pointer);
        args.Add(param.ElementCount);
        args.Add(step.GradScale);
        args.Add(f.Decay);
        args.Add(f.Beta1);
        args.Add(f.Beta2);
        args.Add(f.OneMinusBeta1);
        args.Add(f.OneMinusBeta2);
        args.Add(f.StepSize);
        args.Add(f.BiasCorrection2Sqrt);
        args.Add(step.Eps);
        if (param.ElementCount > 0) device.Launch("adamw_step_f32", Launch.CeilDiv(param.ElementCount, Threads), Threads, 0, args);
    }

    /// <summary>Partials of Σ x² the kernel writes for N elements: one per block.</summary>
    public static int PartialCount(long n) => Math.Clamp(Launch.CeilDiv(n, 4L * Threads), 1, MaxPartials);

    /// <summary>
    /// Σ x² of an F32 or BF16 tensor: fp32 partials per block (<paramref name="partials"/> holds at least
    /// <see cref="PartialCount"/> floats), added on the host in fp64 in block order. Synchronises (the result is a host value).
    /// </summary>
    public static double SumOfSquares(IDevice device, DeviceTensor x, DeviceSpan<float> partials)
    {
        const string op = "sum of squares";
        if (x.ElementCount == 0) return 0;
        int blocks = PartialCount(x.ElementCount);
        if (partials.Length < blocks) throw new ArgumentException($"{op}: {partials.Length} partials, {blocks} needed");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(x.ElementCount);
        args.Add(partials.Pointer);
        device.Launch($"adamw_sum_of_squares_partials_{Launch.Suffix(op, x.DType)}", blocks, Threads, 0, args);
        var host = new float[blocks];
        device.CopyToHost(partials.Slice(0, blocks), host);
        double sum = 0;
        foreach (var p in host) sum += p;
        return sum;
    }
}
