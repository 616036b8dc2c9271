using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/layernorm.cu: one block per row. Legend: R = rows, D = dim.</summary>
public static class LayerNormKernel
{
    /// <summary>
    /// y = (x − mean) · rstd · weight + bias per row. x, y [R, D], weight and bias [D] share F32 or BF16; mean and rstd
    /// F32 [R] (optional, both or neither) are saved for backward.
    /// </summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor bias, float eps, DeviceTensor y, DeviceTensor? mean, DeviceTensor? rstd)
    {
        const string op = "layernorm forward";
        CheckRows(op, x);
        CheckParameter(op, x, weight, "weight");
        CheckParameter(op, x, bias, "bias");
        Launch.SameLayout(op, x, y, "x", "y");
        if ((mean is null) != (rstd is null)) throw new ArgumentException($"{op}: mean and rstd are saved together; give both or neither");
        if (mean is { } m) CheckSaved(op, m, x.Rows, "mean");
        if (rstd is { } r) CheckSaved(op, r, x.Rows, "rstd");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(weight.Pointer);
        args.Add(bias.Pointer);
        args.Add(eps);
        args.Add(x.Columns);
        args.Add(y.Pointer);
        args.Add(mean?.Pointer ?? 0UL);
        args.Add(rstd?.Pointer ?? 0UL);
        if (x.Rows > 0) device.Launch($"layernorm_forward_{Launch.Suffix(op, x.DType)}", x.Rows, Launch.RowBlock(x.Columns), 0, args);
    }

    /// <summary>
    /// dX (overwritten) from x, weight, the saved mean and rstd, and dY; when given, dWeight F32 [D] += Σ_rows dY ⊙ n
    /// and dBias F32 [D] += Σ_rows dY (a second, column-parallel kernel: deterministic, no atomics).
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor mean, DeviceTensor rstd, DeviceTensor dY, DeviceTensor dX,
        DeviceTensor? dWeight, DeviceTensor? dBias)
    {
        const string op = "layernorm backward";
        CheckRows(op, x);
        CheckParameter(op, x, weight, "weight");
        CheckSaved(op, mean, x.Rows, "mean");
        CheckSaved(op, rstd, x.Rows, "rstd");
        Launch.SameLayout(op, x, dY, "x", "dY");
        Launch.SameLayout(op, x, dX, "x", "dX");
        if (dWeight is { } dw) CheckParameterGradient(op, dw, x.Columns, "dWeight");
        if (dBias is { } db) CheckParameterGradient(op, db, x.Columns, "dBias");
        string suffix = Launch.Suffix(op, x.DType);
        if (x.Rows == 0) return;
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(weight.Pointer);
        args.Add(mean.Pointer);
        args.Add(rstd.Pointer);
        args.Add(dY.Pointer);
        args.Add(x.Columns);
        args.Add(dX.Pointer);
        device.Launch($"layernorm_backward_{suffix}", x.Rows, Launch.RowBlock(x.Columns), 0, args);

        if (dWeight is null && dBias is null) return;
        var pargs = new KernelArgs();
        pargs.Add(x.Pointer);
        pargs.Add(mean.Pointer);
        pargs.Add(rstd.Pointer);
        pargs.Add(dY.Pointer);
        pargs.Add(x.Rows);
        pargs.Add(x.Columns);
        pargs.Add(dWeight?.Pointer ?? 0UL);
        pargs.Add(dBias?.Pointer ?? 0UL);
        Launch.PerColumn(device, $"layernorm_backward_dparams_{suffix}", x.Columns, pargs);
    }

    private static void CheckRows(string op, DeviceTensor x)
    {
        if (x.Shape.Rank < 1) throw new ArgumentException($"{op}: x must be [R, D], not {x.Shape}");
    }

    private static void CheckParameter(string op, DeviceTensor x, DeviceTensor parameter, string name)
    {
        if (parameter.Shape.Rank != 1 || parameter.Shape[0] != x.Columns)
            throw new ArgumentException($"{op}: {name} must be [{x.Columns}] for x {x.Shape}, not {parameter.Shape}");
        Launch.SameDType(op, x, parameter, "x", name);
    }

    private static void CheckSaved(string op, DeviceTensor saved, int rows, string name)
    {
        Launch.DTypeIs(op, saved, DType.F32, name);
        Launch.Count(op, saved, rows, name);
    }

    private static void CheckParameterGradient(string op, DeviceTensor gradient, int columns, string name)
    {
        Launch.DTypeIs(op, gradient, DType.F32, name);
        Launch.Count(op, gradient, columns, name);
    }
}
