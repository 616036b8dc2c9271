using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// BiasKernel vs BiasRef over <see cref="BiasCases"/>. Both are exact: the add is one fp32 addition rounded once to
/// the storage dtype on either side, and the column sum adds the same values in the same row order (no atomics).
/// </summary>
public static class BiasChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in BiasCases.All)
            {
                yield return new KernelCheck("bias_add", dtype, c.Name, s => Add(s, c, dtype));
                yield return new KernelCheck("bias_backward", dtype, c.Name, s => Backward(s, c, dtype));
            }
    }

    private static KernelComparison Add(DeviceScope s, BiasCase c, DType dtype)
    {
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var bias = Storage.Rounded(data.Bias, dtype);
        var expected = new float[x.Length];
        BiasRef.Add(x, bias, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(c.Rows, c.Features);
        var y = s.Allocate(shape, dtype);
        BiasKernel.Add(s.Device, s.Upload(x, shape, dtype), s.Upload(bias, new Shape(c.Features), dtype), y);
        return new KernelComparison().Add("y", expected, s.Download(y), 0, 0);
    }

    private static KernelComparison Backward(DeviceScope s, BiasCase c, DType dtype)
    {
        var data = c.Build();
        var dY = Storage.Rounded(data.DY, dtype);
        var start = CaseRandom.For(c.Name, salt: 1).Normal(c.Features, 0.1f);   // the kernel adds into it
        var expected = (float[])start.Clone();
        BiasRef.Backward(dY, expected);
        var dBias = s.Upload(start, new Shape(c.Features), DType.F32);
        BiasKernel.Backward(s.Device, s.Upload(dY, new Shape(c.Rows, c.Features), dtype), dBias, s.Scratch(BiasKernel.PartialsBytes(c.Rows, c.Features)));
        // Up to one row slice the kernel adds in the reference's order: bit-exact. Beyond, it sums slice by slice.
        double abs = c.Rows <= ColumnReduction.SliceRows ? 0 : KernelTolerance.ColumnSum(c.Rows, c.Features, start, (r, j) => dY[r * c.Features + j]);
        return new KernelComparison().Add("dBias", expected, s.Download(dBias), abs, 0);
    }
}
