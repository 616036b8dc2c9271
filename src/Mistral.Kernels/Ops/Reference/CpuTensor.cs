using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// A host tensor of <see cref="CpuOps"/>: float[] storage for every float dtype (values of a BF16/F16 tensor are kept
/// rounded to that dtype, so a narrower storage precision is emulated exactly while the math stays fp32) and int[]
/// for I32. The arrays belong to the tensor; Dispose releases nothing (the GC owns host memory).
/// </summary>
public sealed class CpuTensor : Tensor
{
    private readonly float[]? _floats;
    private readonly int[]? _ints;

    public CpuTensor(Shape shape, DType dtype) : base(shape, dtype)
    {
        long count = shape.ElementCount;
        if (count > Array.MaxLength)
            throw new ArgumentException($"cpu tensor: {shape} holds {count} elements, more than one host array can");
        if (dtype.IsFloat()) _floats = new float[count];
        else if (dtype == DType.I32) _ints = new int[count];
        else throw new ArgumentException($"cpu tensor: dtype {dtype} is not supported (F32, BF16, F16 or I32)");
    }

    /// <summary>The fp32 values of a float tensor [ElementCount]. Writers must keep BF16/F16 values rounded (see <see cref="RoundToStorage"/>).</summary>
    public Span<float> Floats => _floats ?? throw new InvalidOperationException($"cpu tensor {this} holds ints, not floats");

    /// <summary>The backing array of a float tensor (for the parallel GEMM, which cannot capture a span).</summary>
    internal float[] FloatArray => _floats ?? throw new InvalidOperationException($"cpu tensor {this} holds ints, not floats");

    /// <summary>The values of an I32 tensor [ElementCount].</summary>
    public Span<int> Ints => _ints ?? throw new InvalidOperationException($"cpu tensor {this} holds floats, not ints");

    /// <summary>Rounds the stored values to this tensor's dtype after an op wrote fp32 results into it.</summary>
    public void RoundToStorage()
    {
        if (_floats is not null) ElementwiseRef.RoundTo(DType, _floats);
    }

    public override void Dispose() { }
}
