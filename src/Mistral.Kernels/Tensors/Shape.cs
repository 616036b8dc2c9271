namespace Mistral.Kernels.Tensors;

/// <summary>An immutable row-major shape. The last dimension is contiguous.</summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", dims)}]");
        _dims = (int[])dims.Clone();
    }

    public int Rank => _dims.Length;
    public int this[int axis] => _dims[axis < 0 ? _dims.Length + axis : axis];
    public ReadOnlySpan<int> Dims => _dims;

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in _dims) n *= d;
            return n;
        }
    }

    /// <summary>Rows of the shape seen as a matrix [product of leading dims, last dim].</summary>
    public int Rows => Rank == 0 ? 1 : checked((int)(ElementCount / Math.Max(1, this[-1])));

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _dims) + "]";
}
