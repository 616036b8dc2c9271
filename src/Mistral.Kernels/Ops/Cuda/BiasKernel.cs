using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/bias.cu. Legend: R = rows, N = features. Shapes: the IOps contract, checked by the ops.</summary>
public static class BiasKernel
{
    /// <summary>y[r, j] = x[r, j] + bias[j]. x, y [R, N] and bias [N] share F32 or BF16; y may be x.</summary>
    public static void Add(IDevice device, DeviceTensor x, DeviceTensor bias, DeviceTensor y)
    {
        const string op = "bias add";
        Launch.SameDType(op, x, bias, "x", "bias");
        Launch.SameDType(op, x, y, "x", "y");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(bias.Pointer);
        args.Add(x.ElementCount);
        args.Add(x.Columns);
        args.Add(y.Pointer);
        Launch.Elementwise(device, $"bias_add_{Launch.Suffix(op, x.DType)}", x.ElementCount, args);
    }

    /// <summary>The scratch <see cref="Backward"/> needs for dBias's partial sums over R rows of N features.</summary>
    public static long PartialsBytes(int rows, int features) => ColumnReduction.PartialsBytes(rows, features, 1);

    /// <summary>
    /// dBias F32 [N] += Σ_r dY[r] (the two-stage column reduction, <see cref="ColumnReduction"/>: deterministic, no
    /// atomics), its partial sums in <paramref name="partials"/> (at least <see cref="PartialsBytes"/>). dY [R, N] F32 or BF16.
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor dY, DeviceTensor dBias, DeviceSpan<byte> partials)
    {
        const string op = "bias backward";
        Launch.DTypeIs(op, dBias, DType.F32, "dBias");   // accumulated in fp32 by the column kernel
        string suffix = Launch.Suffix(op, dY.DType);
        if (dY.ElementCount == 0) return;
        var args = new KernelArgs();
        args.Add(dY.Pointer);
        ColumnReduction.Partials(device, op, $"bias_backward_partials_{suffix}", dY.DType, dY.Rows, dY.Columns, 1, partials, ref args);
        ColumnReduction.Sum(device, "bias_backward_sum_f32", dY.Rows, dY.Columns, partials, dBias.Pointer);
    }
}
