using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Argument validation shared by <see cref="CpuOps"/> (STYLE habit 3): every failure is one ArgumentException naming
/// the op, the argument and the shapes involved, thrown before anything is written.
/// </summary>
internal static class OpChecks
{
    public static CpuTensor Float(string op, string name, Tensor tensor)
    {
        var cpu = Host(op, name, tensor);
        if (!cpu.DType.IsFloat())
            throw new ArgumentException($"{op}: {name} {tensor} must be a float tensor (F32, BF16 or F16)");
        return cpu;
    }

    public static CpuTensor F32(string op, string name, Tensor tensor)
    {
        var cpu = Host(op, name, tensor);
        if (cpu.DType != DType.F32)
            throw new ArgumentException($"{op}: {name} {tensor} must be F32");
        return cpu;
    }

    public static CpuTensor Int(string op, string name, Tensor tensor)
    {
        var cpu = Host(op, name, tensor);
        if (cpu.DType != DType.I32)
            throw new ArgumentException($"{op}: {name} {tensor} must be I32");
        return cpu;
    }

    public static CpuTensor? OptionalF32(string op, string name, Tensor? tensor) => tensor is null ? null : F32(op, name, tensor);

    /// <summary>Requires exactly <paramref name="count"/> elements; <paramref name="expected"/> says which shape that is.</summary>
    public static void Count(string op, string name, Tensor tensor, long count, string expected)
    {
        if (tensor.ElementCount != count)
            throw new ArgumentException($"{op}: {name} is {tensor.Shape} ({tensor.ElementCount} elements), expected {expected} ({count} elements)");
    }

    public static void SameShape(string op, string name, Tensor tensor, string referenceName, Tensor reference)
    {
        if (!tensor.Shape.Equals(reference.Shape))
            throw new ArgumentException($"{op}: {name} is {tensor.Shape} but {referenceName} is {reference.Shape}; they must match");
    }

    public static void That(bool condition, string op, string message)
    {
        if (!condition) throw new ArgumentException($"{op}: {message}");
    }

    /// <summary>Element count of the packed token tensors of an attention batch, guarding against int overflow.</summary>
    public static long Elements(int tokens, int width) => (long)tokens * width;

    private static CpuTensor Host(string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        return tensor as CpuTensor
            ?? throw new ArgumentException($"{op}: {name} {tensor} belongs to another device ({tensor.GetType().Name}); the cpu ops read only CpuTensor");
    }
}
