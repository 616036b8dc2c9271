using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// AdamWKernel vs AdamWRef over <see cref="AdamWCases"/>: several consecutive steps (the bias correction changes each
/// step), compared bit for bit — the kernel forms every product and sum with the non-contracting _rn intrinsics from
/// the reference's own fp32 factors. And the sum of squares behind gradient clipping, against the fp64 reference.
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
