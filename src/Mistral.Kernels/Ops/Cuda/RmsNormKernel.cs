using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/rmsnorm.cu: one block per row. Legend: R = rows, D = dim. The shapes are the IOps contract's
/// (checked by the ops before launch); a launcher checks what the kernels add: one storage dtype, fp32 dWeight.
/// </summary>
public static class RmsNormKernel
{
    /// <summary>y = x · rstd · weight per row. x, y [R, D] and weight [D] share F32 or BF16; rstd F32 [R] (optional) is saved for backward.</summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor y, DeviceTensor? rstd)
    {
        const string op = "rmsnorm forward";
        Launch.SameDType(op, x, weight, "x", "weight");
        Launch.SameDType(op, x, y, "x", "y");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(weight.Pointer);
        args.Add(eps);
        args.Add(x.Columns);
        args.Add(y.Pointer);
        args.Add(rstd?.Pointer ?? 0UL);
        if (x.Rows > 0) device.Launch($"rmsnorm_forward_{Launch.Suffix(op, x.DType)}", x.Rows, Launch.RowBlock(x.Columns), 0, args);
    }

    /// <summary>The scratch <see cref="Backward"/> needs for dWeight's partial sums over R rows of dim D.</summary>
    public static long PartialsBytes(int rows, int dim) => ColumnReduction.PartialsBytes(rows, dim, 1);

    /// <summary>
    /// dX (overwritten) from x, weight, the saved rstd and dY; when given, dWeight F32 [D] += Σ_rows dY ⊙ x · rstd
    /// (the two-stage column reduction, <see cref="ColumnReduction"/>: deterministic, no atomics), its partial sums in
    /// <paramref name="partials"/> (at least <see cref="PartialsBytes"/>).
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor rstd, DeviceTensor dY, DeviceTensor dX, DeviceTensor? dWeight,
        DeviceSpan<byte> partials)
    {
        const string op = "rmsnorm backward";
        Launch.SameDType(op, x, weight, "x", "weight");
        Launch.SameDType(op, x, dY, "x", "dY");
        Launch.SameDType(op, x, dX, "x", "dX");
        if (dWeight is { } w) Launch.DTypeIs(op, w, DType.F32, "dWeight");   // accumulated in fp32 by the column kernel
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
        var wargs = new KernelArgs();
        wargs.Add(x.Pointer);
        wargs.Add(rstd.Pointer);
        wargs.Add(dY.Pointer);
        ColumnReduction.Partials(device, op, $"rmsnorm_backward_dweight_partials_{suffix}", x.DType, x.Rows, x.Columns, 1, partials, ref wargs);
        ColumnReduction.Sum(device, "rmsnorm_backward_dweight_sum_f32", x.Rows, x.Columns, partials, dw.Pointer);
    }
}
