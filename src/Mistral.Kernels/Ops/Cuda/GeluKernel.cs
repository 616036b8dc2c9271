using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/gelu.cu: 4 elements per thread. All tensors [N] of one shape (the ops check it) and one dtype (F32 or BF16).</summary>
public static class GeluKernel
{
    /// <summary>y = gelu(x) in the given form; y may be x.</summary>
    public static void Forward(IDevice device, DeviceTensor x, GeluApproximation approximation, DeviceTensor y)
    {
        const string op = "gelu forward";
        Launch.SameDType(op, x, y, "x", "y");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(x.ElementCount);
        args.Add(y.Pointer);
        Launch.Elementwise(device, $"gelu_forward_{Form(approximation)}_{Launch.Suffix(op, x.DType)}", x.ElementCount, args);
    }

    /// <summary>dX = dY · gelu'(x), overwritten; dX may be dY.</summary>
    public static void Backward(IDevice device, DeviceTensor x, DeviceTensor dY, GeluApproximation approximation, DeviceTensor dX)
    {
        const string op = "gelu backward";
        Launch.SameDType(op, x, dY, "x", "dY");
        Launch.SameDType(op, x, dX, "x", "dX");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(dY.Pointer);
        args.Add(x.ElementCount);
        args.Add(dX.Pointer);
        Launch.Elementwise(device, $"gelu_backward_{Form(approximation)}_{Launch.Suffix(op, x.DType)}", x.ElementCount, args);
    }

    /// <summary>The kernel-name part of each form: "tanh" or "erf".</summary>
    private static string Form(GeluApproximation approximation) => approximation switch
    {
        GeluApproximation.Tanh => "tanh",
        GeluApproximation.Erf => "erf",
        _ => throw new ArgumentException($"gelu: unknown approximation {approximation}"),
    };
}
