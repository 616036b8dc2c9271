using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/elementwise.cu: add, scale, fill (16 bytes per thread), cast (4 elements per thread).</summary>
public static class ElementwiseKernel
{
    /// <summary>y = a + b (y may alias a or b); one shape (the ops check it), one dtype.</summary>
    public static void Add(IDevice device, DeviceTensor a, DeviceTensor b, DeviceTensor y)
    {
        const string op = "add";
        Launch.SameDType(op, a, b, "a", "b");
        Launch.SameDType(op, a, y, "a", "y");
        var args = new KernelArgs();
        args.Add(a.Pointer);
        args.Add(b.Pointer);
        args.Add(a.ElementCount);
        args.Add(y.Pointer);
        Launch.Vector16(device, $"elementwise_add_{Launch.Suffix(op, a.DType)}", a.ElementCount, a.DType, args);
    }

    /// <summary>x ·= alpha, in place.</summary>
    public static void Scale(IDevice device, DeviceTensor x, float alpha)
    {
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(alpha);
        args.Add(x.ElementCount);
        Launch.Vector16(device, $"elementwise_scale_{Launch.Suffix("scale", x.DType)}", x.ElementCount, x.DType, args);
    }

    /// <summary>Every element = value (rounded once to the dtype).</summary>
    public static void Fill(IDevice device, DeviceTensor x, float value)
    {
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(value);
        args.Add(x.ElementCount);
        Launch.Vector16(device, $"elementwise_fill_{Launch.Suffix("fill", x.DType)}", x.ElementCount, x.DType, args);
    }

    /// <summary>dst = src converted: F32 → BF16 (round to nearest even) or BF16 → F32; same dtypes copy. One element count (the ops check it).</summary>
    public static void Cast(IDevice device, DeviceTensor src, DeviceTensor dst)
    {
        const string op = "cast";
        if (src.DType == dst.DType)
        {
            device.Copy(new DeviceSpan<byte>(src.Pointer, src.ByteCount), new DeviceSpan<byte>(dst.Pointer, dst.ByteCount));
            return;
        }
        string kernel = (src.DType, dst.DType) switch
        {
            (DType.F32, DType.BF16) => "elementwise_cast_f32_to_bf16",
            (DType.BF16, DType.F32) => "elementwise_cast_bf16_to_f32",
            _ => throw new ArgumentException($"{op}: no kernel from {src.DType} to {dst.DType}"),
        };
        var args = new KernelArgs();
        args.Add(src.Pointer);
        args.Add(src.ElementCount);
        args.Add(dst.Pointer);
        Launch.Elementwise(device, kernel, src.ElementCount, args);
    }
}
