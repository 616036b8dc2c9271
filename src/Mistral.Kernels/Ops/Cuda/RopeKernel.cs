using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/rope.cu: one block per token, which builds the token's cos/sin table once and rotates every
/// head's pairs with it. The inverse frequencies come from
/// <see cref="InverseFrequencies"/> (computed on the host exactly as the reference does; build once per model and
/// keep). Legend: T = tokens, W = heads · Dh.
/// </summary>
public static class RopeKernel
{
    /// <summary>inv_freq[i] = 1 / theta^(2i/Dh), F32 [Dh/2], uploaded to a new buffer the caller owns.</summary>
    public static DeviceBuffer InverseFrequencies(IDevice device, int headDim, float theta)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"rope: head dim {headDim} must be even and positive");
        var host = new float[headDim / 2];
        RopeRef.InverseFrequencies(headDim, theta, host);
        var buffer = device.Allocate(host.Length * sizeof(float));
        device.CopyToDevice<float>(host, buffer.AsSpan<float>());
        return buffer;
    }

    /// <summary>y = x rotated by positions[t] · inv_freq (y may be x). x, y [T, W] F32 or BF16; positions I32 [T]; invFreq F32 [Dh/2].</summary>
    public static void Forward(IDevice device, DeviceTensor x, DeviceTensor positions, DeviceTensor invFreq, int headDim, DeviceTensor y) =>
        Rotate("rope forward", "rope_forward", device, x, positions, invFreq, headDim, y);

    /// <summary>dX = dY rotated by −angle (dX may be dY).</summary>
    public static void Backward(IDevice device, DeviceTensor dY, DeviceTensor positions, DeviceTensor invFreq, int headDim, DeviceTensor dX) =>
        Rotate("rope backward", "rope_backward", device, dY, positions, invFreq, headDim, dX);

    /// <summary>The largest head dim (ROPE_MAX_HEAD_DIM in rope.cu: one token's cos/sin table in shared memory).</summary>
    public const int MaxHeadDim = 256;

    private static void Rotate(string op, string kernel, IDevice device, DeviceTensor x, DeviceTensor positions, DeviceTensor invFreq, int headDim, DeviceTensor y)
    {
        // x, y and positions are the IOps contract's (checked by the ops); the inverse frequencies are this launcher's.
        Launch.SameDType(op, x, y, "input", "output");
        Launch.DTypeIs(op, invFreq, DType.F32, "inverse frequencies");
        Launch.Count(op, invFreq, headDim / 2, "inverse frequencies");
        if (headDim > MaxHeadDim) throw new NotSupportedException($"{op}: head dim {headDim} is above the kernel's {MaxHeadDim}");
        if (x.Rows == 0 || x.Columns == 0) return;
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(positions.Pointer);
        args.Add(invFreq.Pointer);
        args.Add(x.Columns);
        args.Add(headDim);
        args.Add(y.Pointer);
        // one block per token: its table first, then every head's pairs (a multiple of 32 threads, at most 256)
        int threads = Math.Clamp(Launch.CeilDiv(x.Columns / 2, 32) * 32, 32, 256);
        device.Launch($"{kernel}_{Launch.Suffix(op, x.DType)}", x.Rows, threads, 0, args);
    }
}
