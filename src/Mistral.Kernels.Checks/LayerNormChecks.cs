using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>LayerNormKernel vs LayerNormRef over <see cref="LayerNormCases"/> (D = 1, T = 1, dims that miss the block and the vector width).</summary>
public static class LayerNormChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in LayerNormCases.All)
            {
                yield return new KernelCheck("layernorm_forward", dtype, c.Name, s => Forward(s, c, dtype));
                yield return new KernelCheck("layernorm_backward", dtype, c.Name, s => Backward(s, c, dtype));
            }
    }

    private static KernelComparison Forward(DeviceScope s, LayerNormCase c, DType dtype)
    {
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var w = Storage.Rounded(data.Weight, dtype);
        var b = Storage.Rounded(data.Bias, dtype);
        var yExpected = new float[rows * dim];
        var meanExpected = new float[rows];
        var rstdExpected = new float[rows];
        LayerNormRef.Forward(x, w, b, eps, yExpected, meanExpected, rstdExpected);
        ElementwiseRef.RoundTo(dtype, yExpected);

        var dy = s.Allocate(new Shape(rows, dim), dtype);
        var dmean = s.Allocate(new Shape(rows), DType.F32);
        var drstd = s.Allocate(new Shape(rows), DType.F32);
        LayerNormKernel.Forward(s.Device, s.Upload(x, new Shape(rows, dim), dtype), s.Upload(w, new Shape(dim), dtype), s.Upload(b, new Shape(dim), dtype),
            eps, dy, dmean, drstd);
        return new KernelComparison()
            .Add("y", yExpected, s.Download(dy), dtype)
            .Add("mean", meanExpected, s.Download(dmean), DType.F32)
            .Add("rstd", rstdExpected, s.Download(drstd), DType.F32);
    }

    private static KernelComparison Backward(DeviceScope s, LayerNormCase c, DType dtype)
    {
        var (rows, dim, eps) = (c.Rows, c.Dim, c.Eps);
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var w = Storage.Rounded(data.Weight, dtype);
        var dY = Storage.Rounded(data.DY, dtype);
        var start = CaseRandom.For(c.Name, salt: 1);   // the kernel adds into dWeight and dBias
        var (dWeightStart, dBiasStart) = (start.Normal(dim, 0.1f), start.Normal(dim, 0.1f));
        var (mean, rstd) = (new float[rows], new float[rows]);
        LayerNormRef.Forward(x, w, Storage.Rounded(data.Bias, dtype), eps, new float[rows * dim], mean, rstd);
        var dXExpected = new float[rows * dim];
        var dWeightExpected = (float[])dWeightStart.Clone();
        var dBiasExpected = (float[])dBiasStart.Clone();
        LayerNormRef.Backward(x, w, mean, rstd, dY, dXExpected, dWeightExpected, dBiasExpected);
        ElementwiseRef.RoundTo(dtype, dXExpected);

        var shape = new Shape(rows, dim);
        var ddX = s.Allocate(shape, dtype);
        var ddWeight = s.Upload(dWeightStart, new Shape(dim), DType.F32);
        var ddBias = s.Upload(dBiasStart, new Shape(dim), DType.F32);
        LayerNormKernel.Backward(s.Device, s.Upload(x, shape, dtype), s.Upload(w, new Shape(dim), dtype), s.Upload(mean, new Shape(rows), DType.F32),
            s.Upload(rstd, new Shape(rows), DType.F32), s.Upload(dY, shape, dtype), ddX, ddWeight, ddBias, s.Scratch(LayerNormKernel.PartialsBytes(rows, dim)));
        // dWeight and dBias sum `rows` terms in fp32, the kernel by row slices, the reference row by row (up to one
        // slice: the same order but for where the start is added; beyond, KernelTolerance.ColumnSum).
        double dWeightAbs = KernelTolerance.ColumnSum(rows, dim, dWeightStart, (r, d) => dY[r * dim + d] * ((x[r * dim + d] - mean[r]) * rstd[r]));
        double dBiasAbs = KernelTolerance.ColumnSum(rows, dim, dBiasStart, (r, d) => dY[r * dim + d]);
        return new KernelComparison()
            .Add("dX", dXExpected, s.Download(ddX), dtype)
            .Add("dWeight", dWeightExpected, s.Download(ddWeight), dWeightAbs, KernelTolerance.F32Relative)
            .Add("dBias", dBiasExpected, s.Download(ddBias), dBiasAbs, KernelTolerance.F32Relative);
    }
}
