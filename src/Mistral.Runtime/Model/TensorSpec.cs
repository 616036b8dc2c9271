using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>A tensor's name, dtype and shape: what a writer needs before the data (a file header) is known.</summary>
public sealed record TensorSpec(string Name, DType DType, Shape Shape)
{
    public long ByteCount => Shape.ElementCount * DType.SizeOf();

    public static TensorSpec Of(HostTensor t) => new(t.Name, t.DType, t.Shape);

    /// <summary>Throws unless <paramref name="t"/> has exactly this name, dtype and shape.</summary>
    public HostTensor Check(HostTensor t) =>
        t.Name == Name && t.DType == DType && t.Shape.Equals(Shape) ? t
        : throw new ArgumentException($"tensor '{t.Name}' {t.DType}{t.Shape} was produced where '{Name}' {DType}{Shape} was declared");
}
