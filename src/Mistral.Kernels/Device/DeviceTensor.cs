using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device;

/// <summary>
/// A non-owning, dense row-major view of device memory with a shape and a dtype: what launchers take.
/// </summary>
public readonly record struct DeviceTensor(ulong Pointer, Shape Shape, DType DType)
{
    public long ElementCount => Shape.ElementCount;
    public long ByteCount => Shape.ElementCount * DType.SizeOf();
    public int Rows => Shape.Rows;
    public int Columns => Shape.Rank == 0 ? 1 : Shape[-1];

    /// <summary>The start of <paramref name="buffer"/> seen as a tensor; the buffer must be large enough.</summary>
    public static DeviceTensor Of(DeviceBuffer buffer, Shape shape, DType dtype)
    {
        var view = new DeviceTensor(buffer.Pointer, shape, dtype);
        if (view.ByteCount > buffer.ByteLength)
            throw new ArgumentException($"a {dtype}{shape} tensor needs {view.ByteCount} bytes; the buffer has {buffer.ByteLength}");
        return view;
    }

    public override string ToString() => $"{DType}{Shape}";
}
