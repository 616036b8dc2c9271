using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// AdamWKernel vs AdamWRef over <see cref="AdamWCases"/>: several consecutive steps (the bias correction changes each
/// step), compared bit for bit — the kernel forms every product and sum with the non-contracting _rn intrinsics from
/// the reference's own fp32 factors. And the sum of squares behind gradient clipping, against the fp64 reference. The
/// multi-tensor forms (every trained tensor in one launch) go through CudaOps, as the optimizer calls them.
/// </summary>
public static class AdamWChecks
{
    public static readonly int[] SumOfSquaresCounts = [1, 3, 1023, 4097, 300_000];

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var c in AdamWCases.All)
            yield return new KernelCheck("adamw_step", DType.F32, $"{Storage.Dims(c.Length)} × {c.Steps} steps {c.Name}", s => Step(s, c));
        foreach (var dtype in Storage.DTypes)
            foreach (var n in SumOfSquaresCounts)
                yield return new KernelCheck("adamw_sum_of_squares", dtype, Storage.Dims(n), s => SumOfSquares(s, n, dtype));
        var shape = $"{MultiTensorLengths.Length} tensors, {MultiTensorLengths.Sum()} elements";
        yield return new KernelCheck("adamw_step_chunks", DType.F32, shape, StepAll);
        yield return new KernelCheck("adamw_sum_of_squares_chunks", DType.F32, shape, SumOfSquaresAll);
    }

    /// <summary>The multi-tensor launches' tensors: odd sizes, one element, exactly one chunk, a chunk and one, several chunks.</summary>
    public static readonly int[] MultiTensorLengths = [1, 3, 65, AdamWKernel.ChunkElements - 1, AdamWKernel.ChunkElements, AdamWKernel.ChunkElements + 1, 4097, 40_000, 2];

    /// <summary>Each tensor's own weight decay (0 for some: norms and biases are often excluded).</summary>
    private static float WeightDecayOf(int tensor) => tensor % 3 == 0 ? 0f : 0.01f * tensor;

    /// <summary>Three steps of every tensor in one launch per step, through CudaOps, vs AdamWRef per tensor with its own
    /// weight decay: bit for bit (the element math is the one-tensor kernel's).</summary>
    private static KernelComparison StepAll(DeviceScope s)
    {
        var c = AdamWCases.Get("n4097_clipped");
        var rng = new CaseRandom(4242);
        int n = MultiTensorLengths.Length;
        var param = MultiTensorLengths.Select(l => rng.Normal(l)).ToArray();
        var (m, v) = (MultiTensorLengths.Select(l => new float[l]).ToArray(), MultiTensorLengths.Select(l => new float[l]).ToArray());
        using var ops = new CudaOps(s.Device, DType.F32);
        var tensors = Enumerable.Range(0, n).Select(t => new AdamWTensors(ops.Upload(param[t], new Shape(param[t].Length), DType.F32),
            ops.Allocate(new Shape(param[t].Length), DType.F32), ops.Allocate(new Shape(param[t].Length), DType.F32),
            ops.Allocate(new Shape(param[t].Length), DType.F32), WeightDecayOf(t))).ToArray();
        try
        {
            for (int step = 1; step <= 3; step++)
            {
                var args = c.Args with { Step = step, GradScale = 0.75f };
                for (int t = 0; t < n; t++)
                {
                    var grad = rng.Normal(param[t].Length, 0.1f);
                    AdamWRef.Step(param[t], grad, m[t], v[t], args with { WeightDecay = WeightDecayOf(t) });
                    using var g = ops.Upload(grad, tensors[t].Grad.Shape, DType.F32);
                    ops.Copy(g, tensors[t].Grad);
                }
                ops.AdamWStep(tensors, args);
            }
            var result = new KernelComparison();
            foreach (var (name, expected, actual) in new[] { ("param", param, tensors.Select(t => t.Param)), ("m", m, tensors.Select(t => t.M)), ("v", v, tensors.Select(t => t.V)) })
                result.Add(name, expected.SelectMany(e => e).ToArray(), actual.SelectMany(t => Downloaded(ops, t)).ToArray(), 0, 0);
            return result;
        }
        finally
        {
            foreach (var t in tensors) foreach (var x in new[] { t.Param, t.Grad, t.M, t.V }) x.Dispose();
        }
    }

    /// <summary>Σ over the tensors of Σ x², through CudaOps (one launch, one download), vs the fp64 reference per tensor
    /// added in order: both are fp64 sums of exact squares, in another order — ~1e-16 relative each addition.</summary>
    private static KernelComparison SumOfSquaresAll(DeviceScope s)
    {
        var rng = new CaseRandom(77);
        // magnitudes from 1e-4 to 1e2: small gradients next to large ones, which fp32 partials would lose
        var xs = MultiTensorLengths.Select((l, t) => rng.Normal(l, MathF.Pow(10f, t % 7 - 4))).ToArray();
        double expected = xs.Sum(x => ElementwiseRef.SumOfSquares(x));
        using var ops = new CudaOps(s.Device, DType.F32);
        var tensors = xs.Select(x => ops.Upload(x, new Shape(x.Length), DType.F32)).ToArray();
        try
        {
            double actual = ops.SumOfSquares(tensors);
            return new KernelComparison().Add("relative error of the sum", [0f], [(float)(Math.Abs(actual - expected) / expected)], 1e-13, 0);
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    private static float[] Downloaded(CudaOps ops, Tensor t)
    {
        var values = new float[t.ElementCount];
        ops.Download(t, values);
        return values;
    }

    private static KernelComparison Step(DeviceScope s, AdamWCase c)
    {
        var data = c.Build();
        var (param, m, v) = ((float[])data.Param.Clone(), new float[c.Length], new float[c.Length]);
        var shape = new Shape(c.Length);
        var (dp, dm, dv, dg) = (s.Upload(data.Param, shape, DType.F32), s.Upload(m, shape, DType.F32), s.Upload(v, shape, DType.F32), s.Allocate(shape, DType.F32));
        for (int step = 1; step <= c.Steps; step++)
        {
            var args = c.Args with { Step = step };
            AdamWRef.Step(param, data.Grads[step - 1], m, v, args);
            s.Device.CopyToDevice<float>(data.Grads[step - 1], new DeviceSpan<float>(dg.Pointer, c.Length));
            AdamWKernel.Step(s.Device, dp, dg, dm, dv, args);
        }
        return new KernelComparison()
            .Add("param", param, s.Download(dp), 0, 0)
            .Add("m", m, s.Download(dm), 0, 0)
            .Add("v", v, s.Download(dv), 0, 0);
    }

    private static KernelComparison SumOfSquares(DeviceScope s, int n, DType dtype)
    {
        var x = Storage.Rounded(new CaseRandom(n * 31 + 7).Normal(n, 0.01f), dtype);
        double expected = ElementwiseRef.SumOfSquares(x);
        var partials = s.Allocate(new Shape(AdamWKernel.MaxPartials), DType.F32);
        double actual = AdamWKernel.SumOfSquares(s.Device, s.Upload(x, new Shape(n), dtype), new DeviceSpan<float>(partials.Pointer, AdamWKernel.MaxPartials));
        // fp32 partials of ≤ a few hundred squares each, then an fp64 sum: ~1e-7 relative; the fp32 tolerance covers it.
        return new KernelComparison().Add("sum", [(float)expected], [(float)actual], DType.F32);
    }
}
