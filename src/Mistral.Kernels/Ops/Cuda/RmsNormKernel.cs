using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/rmsnorm.cu: one block per row. Legend: R = rows, D = dim.</summary>
public static class RmsNormKernel
{
    /// <summary>y = x · rstd · weight per row. x, y [R, D] and weight [D] share F32 or BF16; rstd F32 [R] (optional) is saved for backward.</summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor y, DeviceTensor? rstd)
    {
        const string op = "rmsnorm forward";
        CheckRows(op, x, weight);
        Launch.SameLayout(op, x, y, "x", "y");
        if (rstd is { } r) CheckRstd(op, r, x.Rows);
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(weight.Pointer);
        args.Add(eps);
        args.Add(x.Columns);
        args.Add(y.Pointer);
        args.Add(rstd?.Pointer ?? 0UL);
        if (x.Rows > 0) device.Launch($"rmsnorm_forward_{Launch.Suffix(op, x.DType)}", x.Rows, Launch.RowBlock(x.Columns), 0, args);
    }

    /// <summary>
    /// dX (overwritten) from x, weight, the saved rstd and dY; when given, dWeight F32 [D] += Σ_rows dY ⊙ x · rstd
    /// (a second, column-parallel kernel: deterministic, no atomics).
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor rstd, DeviceTensor dY, DeviceTensor dX, DeviceTensor? dWeight)
    {
        const string op = "rmsnorm backward";
        CheckRows(op, x, weight);
        CheckRstd(op, rstd, x.Rows);
        Launch.SameLayout(op, x, dY, "x", "dY");
        Launch.SameLayout(op, x, dX, "x", "dX");
        string suffix = Launch.Suffix(op, x.DType);
        if (x.Rows == 0) return;
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(weight.Pointer);
        args.Add(rstd.Pointer);
        args.Add(dY.Pointer);
        args.Add(x.Columns);
        args.Add(dX.Pointer);
        device.Launch($"rmsnorm_backward_{suffix}", x.Rows, Launch.RowBlock(x.Columns), 0, args);

        if (dWeight is not { } dw) return;
        Launch.DTypeIs(op, dw, DType.F32, "dWeight");
        Launch.Count(op, dw, x.Columns, "dWeight");
        var wargs = new KernelArgs();
        wargs.Add(x.Pointer);
        wargs.Add(rstd.Pointer);
        wargs.Add(dY.Pointer);
        wargs.Add(x.Rows);
        wargs.Add(x.Columns);
        wargs.Add(dw.Pointer);
        Launch.PerColumn(device, $"rmsnorm_backward_dweight_{suffix}", x.Columns, wargs);
    }

    private static void CheckRows(string op, DeviceTensor x, DeviceTensor weight)
    {
        if (x.Shape.Rank < 1) throw new ArgumentException($"{op}: x must be [R, D], not {x.Shape}");
        if (weight.Shape.Rank != 1 || weight.Shape[0] != x.Columns)
            throw new ArgumentException($"{op}: weight must be [{x.Columns}] for x {x.Shape}, not {weight.Shape}");
        Launch.SameDType(op, x, weight, "x", "weight");
    }

    private static void CheckRstd(string op, DeviceTensor rstd, int rows)
    {
        Launch.DTypeIs(op, rstd, DType.F32, "rstd");
        Launch.Count(op, rstd, rows, "rstd");
    }
}
