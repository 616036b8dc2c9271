namespace Mistral.Kernels.Tensors;

/// <summary>
/// A dense row-major tensor owned by one <see cref="Ops.IOps"/> implementation (host arrays for the CPU
/// reference, device memory for CUDA and the emulated device). Only the ops that created a tensor may read it.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(Shape shape, DType dtype)
    {
        Shape = shape;
        DType = dtype;
    }

    public Shape Shape { get; }
    public DType DType { get; }
    public long ElementCount => Shape.ElementCount;
    public long ByteCount => ElementCount * DType.SizeOf();

    public abstract void Dispose();

    public override string ToString() => $"{DType}{Shape}";
}
