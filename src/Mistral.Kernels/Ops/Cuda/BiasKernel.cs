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

    /// <summary>dBias F32 [N] += Σ_r dY[r] (one thread per column, rows in order: deterministic, no atomics). dY [R, N] F32 or BF16.</summary>
    public static void Backward(IDevice device, DeviceTensor dY, DeviceTensor dBias)
    {
        const string op = "bias backward";
        Launch.DTypeIs(op, dBias, DType.F32, "dBias");   // accumulated in fp32 by the column kernel
        var args = new KernelArgs();
        args.Add(dY.Pointer);
        args.Add(dY.Rows);
        args.Add(dY.Columns);
        args.Add(dBias.Pointer);
        if (dY.ElementCount > 0) Launch.PerColumn(device, $"bias_backward_{Launch.Suffix(op, dY.DType)}", dY.Columns, args);
    }
}
