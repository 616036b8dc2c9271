using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/layernorm.cu: one block per row. Legend: R = rows, D = dim. The shapes are the IOps contract's
/// (checked by the ops before launch); a launcher checks what the kernels add: one storage dtype, fp32 gradients.
/// </summary>
public static class LayerNormKernel
{
    /// <summary>
    /// y = (x − mean) · rstd · weight + bias per row. x, y [R, D], weight and bias [D] share F32 or BF16; mean and rstd
    /// F32 [R] (optional, both or neither) are saved for backward.
    /// </summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor bias, float eps, DeviceTensor y, DeviceTensor? mean, DeviceTensor? rstd)
    {
        const string op = "layernorm forward";
        Launch.SameDType(op, x, weight, "x", "weight");
        Launch.SameDType(op, x, bias, "x", "bias");
        Launch.SameDType(op, x, y, "x", "y");
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

    /// <summary>The scratch <see cref="Backward"/> needs for dWeight's and dBias's partial sums over R rows of dim D.</summary>
    public static long PartialsBytes(int rows, int dim) => ColumnReduction.PartialsBytes(rows, dim, 2);

    /// <summary>
    /// dX (overwritten) from x, weight, the saved mean and rstd, and dY; when given, dWeight F32 [D] += Σ_rows dY ⊙ n
    /// and dBias F32 [D] += Σ_rows dY (the two-stage column reduction, <see cref="ColumnReduction"/>: deterministic, no
    /// atomics), their partial sums in <paramref name="partials"/> (at least <see cref="PartialsBytes"/>).
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor x, DeviceTensor weight, DeviceTensor mean, DeviceTensor rstd, DeviceTensor dY, DeviceTensor dX,
        DeviceTensor? dWeight, DeviceTensor? dBias, DeviceSpan<byte> partials)
    {
        const string op = "layernorm backward";
        Launch.SameDType(op, x, weight, "x", "weight");
        Launch.SameDType(op, x, dY, "x", "dY");
        Launch.SameDType(op, x, dX, "x", "dX");
        if (dWeight is { } dw) Launch.DTypeIs(op, dw, DType.F32, "dWeight");   // accumulated in fp32 by the column kernel
        if (dBias is { } db) Launch.DTypeIs(op, db, DType.F32, "dBias");
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
        ColumnReduction.Partials(device, op, $"layernorm_backward_dparams_partials_{suffix}", x.DType, x.Rows, x.Columns, 2, partials, ref pargs);
        ColumnReduction.Sum(device, "layernorm_backward_dparams_sum_f32", x.Rows, x.Columns, partials, dWeight?.Pointer ?? 0UL, dBias?.Pointer ?? 0UL);
    }
}
