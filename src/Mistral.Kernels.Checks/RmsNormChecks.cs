using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>RmsNormKernel vs RmsNormRef over <see cref="RmsNormCases"/> (dims that miss the block and the vector width).</summary>
public static class RmsNormChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in RmsNormCases.All)
            {
                yield return new KernelCheck("rmsnorm_forward", dtype, c.Name, s => Forward(s, c, dtype));
                yield return new KernelCheck("rmsnorm_backward", dtype, c.Name, s => Backward(s, c, dtype));
            }
    }

    private static KernelComparison Forward(DeviceScope s, RmsNormCase c, DType dtype)
    {
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var w = Storage.Rounded(data.Weight, dtype);
        var yExpected = new float[rows * dim];
        var rstdExpected = new float[rows];
        RmsNormRef.Forward(x, w, eps, yExpected, rstdExpected);
        ElementwiseRef.RoundTo(dtype, yExpected);

        var dx = s.Upload(x, new Shape(rows, dim), dtype);
        var dw = s.Upload(w, new Shape(dim), dtype);
        var dy = s.Allocate(new Shape(rows, dim), dtype);
        var drstd = s.Allocate(new Shape(rows), DType.F32);
        RmsNormKernel.Forward(s.Device, dx, dw, eps, dy, drstd);
        return new KernelComparison()
            .Add("y", yExpected, s.Download(dy), dtype)
            .Add("rstd", rstdExpected, s.Download(drstd), DType.F32);
    }

    private static KernelComparison Backward(DeviceScope s, RmsNormCase c, DType dtype)
    {
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var w = Storage.Rounded(data.Weight, dtype);
        var dY = Storage.Rounded(data.DY, dtype);
        var dWeightStart = CaseRandom.For(c.Name, salt: 1).Normal(dim, 0.1f); // the kernel adds into it
        var rstd = new float[rows];
        RmsNormRef.Forward(x, w, eps, new float[rows * dim], rstd);
        var dXExpected = new float[rows * dim];
        var dWeightExpected = (float[])dWeightStart.Clone();
        RmsNormRef.Backward(x, w, rstd, dY, dXExpected, dWeightExpected);
        ElementwiseRef.RoundTo(dtype, dXExpected);

        var shape = new Shape(rows, dim);
        var dx = s.Upload(x, shape, dtype);
        var dw = s.Upload(w, new Shape(dim), dtype);
        var drstd = s.Upload(rstd, new Shape(rows), DType.F32);
        var ddY = s.Upload(dY, shape, dtype);
        var ddX = s.Allocate(shape, dtype);
        var ddWeight = s.Upload(dWeightStart, new Shape(dim), DType.F32);
        RmsNormKernel.Backward(s.Device, dx, dw, drstd, ddY, ddX, ddWeight, s.Scratch(RmsNormKernel.PartialsBytes(rows, dim)));
        // dWeight sums `rows` products in fp32, the kernel by row slices, the reference row by row: their difference
        // grows with rows (KernelTolerance.ColumnSum).
        double dWeightAbs = KernelTolerance.ColumnSum(rows, dim, dWeightStart, (r, d) => dY[r * dim + d] * x[r * dim + d] * rstd[r]);
        return new KernelComparison()
            .Add("dX", dXExpected, s.Download(ddX), dtype)
            .Add("dWeight", dWeightExpected, s.Download(ddWeight), dWeightAbs, KernelTolerance.F32Relative);
    }
}
