using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// The device tensors of one test: uploads host data in a storage dtype (rounding fp32 to bf16 as storing does),
/// downloads widened to fp32, and frees everything on Dispose, checking the live-allocation counter came back.
/// </summary>
public sealed class DeviceScope : IDisposable
{
    private readonly List<DeviceBuffer> _buffers = [];
    private readonly int _liveAtStart;

    public DeviceScope(IDevice device)
    {
        Device = device;
        _liveAtStart = device.LiveAllocations;
    }

    public IDevice Device { get; }

    /// <summary>Uninitialised (NaN-poisoned on the emulator).</summary>
    public DeviceTensor Allocate(Shape shape, DType dtype)
    {
        var buffer = Device.Allocate(shape.ElementCount * dtype.SizeOf());
        _buffers.Add(buffer);
        return new DeviceTensor(buffer.Pointer, shape, dtype);
    }

    /// <summary>Uninitialised scratch of <paramref name="bytes"/> (a kernel's partial sums).</summary>
    public DeviceSpan<byte> Scratch(long bytes)
    {
        var buffer = Device.Allocate(bytes);
        _buffers.Add(buffer);
        return new DeviceSpan<byte>(buffer.Pointer, bytes);
    }

    public DeviceTensor Upload(float[] values, Shape shape, DType dtype)
    {
        var t = Allocate(shape, dtype);
        switch (dtype)
        {
            case DType.F32:
                Device.CopyToDevice<float>(values, new DeviceSpan<float>(t.Pointer, values.Length));
                break;
            case DType.BF16:
                Device.CopyToDevice<ushort>(values.Select(FloatBits.SingleToBFloat16).ToArray(), new DeviceSpan<ushort>(t.Pointer, values.Length));
                break;
            default:
                throw new ArgumentException($"upload of {dtype}");
        }
        return t;
    }

    public DeviceTensor Upload(int[] values, Shape shape)
    {
        var t = Allocate(shape, DType.I32);
        Device.CopyToDevice<int>(values, new DeviceSpan<int>(t.Pointer, values.Length));
        return t;
    }

    public float[] Download(DeviceTensor t)
    {
        Device.Synchronize();
        var n = checked((int)t.ElementCount);
        if (t.DType == DType.F32)
        {
            var f = new float[n];
            Device.CopyToHost(new DeviceSpan<float>(t.Pointer, n), f);
            return f;
        }
        if (t.DType != DType.BF16) throw new ArgumentException($"download of {t.DType} as floats");
        var bits = new ushort[n];
        Device.CopyToHost(new DeviceSpan<ushort>(t.Pointer, n), bits);
        return bits.Select(FloatBits.BFloat16ToSingle).ToArray();
    }

    public int[] DownloadInts(DeviceTensor t)
    {
        var values = new int[checked((int)t.ElementCount)];
        Device.CopyToHost(new DeviceSpan<int>(t.Pointer, values.Length), values);
        return values;
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
        if (Device.LiveAllocations != _liveAtStart)
            throw new InvalidOperationException($"{Device.Name}: {Device.LiveAllocations - _liveAtStart} device allocations leaked by the test");
    }
}
