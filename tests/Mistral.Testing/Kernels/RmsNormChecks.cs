using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Cases;

namespace Mistral.Testing.Kernels;

/// <summary>RmsNormKernel vs RmsNormRef. Rows × dims chosen to miss the block (32..256) and the vector width (4).</summary>
public static class RmsNormChecks
{
    public static readonly (int Rows, int Dim)[] Shapes = [(1, 1), (3, 17), (17, 127), (2, 4096), (3, 4097), (127, 64)];

    private const float Eps = 1e-5f;

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var (rows, dim) in Shapes)
            {
                yield return new KernelCheck("rmsnorm_forward", dtype, Storage.Dims(rows, dim), s => Forward(s, rows, dim, dtype));
                yield return new KernelCheck("rmsnorm_backward", dtype, Storage.Dims(rows, dim), s => Backward(s, rows, dim, dtype));
            }
    }

    private static KernelComparison Forward(Devices.DeviceScope s, int rows, int dim, DType dtype)
    {
        var random = new CaseRandom(rows * 7919 + dim);
        var x = Storage.Rounded(random.Normal(rows * dim, 2f), dtype);
        var w = Storage.Rounded(random.Normal(dim, 0.5f).Select(v => v + 1f).ToArray(), dtype);
        var yExpected = new float[rows * dim];
        var rstdExpected = new float[rows];
        RmsNormRef.Forward(x, w, Eps, yExpected, rstdExpected);
        ElementwiseRef.RoundTo(dtype, yExpected);

        var dx = s.Upload(x, new Shape(rows, dim), dtype);
        var dw = s.Upload(w, new Shape(dim), dtype);
        var dy = s.Allocate(new Shape(rows, dim), dtype);
        var drstd = s.Allocate(new Shape(rows), DType.F32);
        RmsNormKernel.Forward(s.Device, dx, dw, Eps, dy, drstd);
        return new KernelComparison()
            .Add("y", yExpected, s.Download(dy), dtype)
            .Add("rstd", rstdExpected, s.Download(drstd), DType.F32);
    }

    private static KernelComparison Backward(Devices.DeviceScope s, int rows, int dim, DType dtype)
    {
        var random = new CaseRandom(rows * 104729 + dim);
        var x = Storage.Rounded(random.Normal(rows * dim, 2f), dtype);
        var w = Storage.Rounded(random.Normal(dim, 0.5f).Select(v => v + 1f).ToArray(), dtype);
        var dY = Storage.Rounded(random.Normal(rows * dim), dtype);
        var dWeightStart = random.Normal(dim, 0.1f); // the kernel adds into it
        var rstd = new float[rows];
        RmsNormRef.Forward(x, w, Eps, new float[rows * dim], rstd);
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
        RmsNormKernel.Backward(s.Device, dx, dw, drstd, ddY, ddX, ddWeight);
        // dWeight sums `rows` products in fp32 in the same order as the reference; its magnitude grows with rows.
        return new KernelComparison()
            .Add("dX", dXExpected, s.Download(ddX), dtype)
            .Add("dWeight", dWeightExpected, s.Download(ddWeight), DType.F32);
    }
}
