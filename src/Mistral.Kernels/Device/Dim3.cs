namespace Mistral.Kernels.Device;

/// <summary>A grid or block extent, as CUDA's dim3.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    public static implicit operator Dim3(int x) => new(checked((uint)x));
    public long Count => (long)X * Y * Z;
    public override string ToString() => $"({X},{Y},{Z})";
}
