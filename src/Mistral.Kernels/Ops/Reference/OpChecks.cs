using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Argument validation shared by <see cref="CpuOps"/> (STYLE habit 3): every failure is one ArgumentException naming
/// the op, the argument and the shapes involved, thrown before anything is written. The shape and dtype checks are
/// <see cref="ArgChecks"/>'s, shared with the cuda ops; this class adds what tells a cpu tensor apart.
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
        ArgChecks.DTypeIs(op, name, cpu, DType.F32);
        return cpu;
    }

    public static CpuTensor Int(string op, string name, Tensor tensor)
    {
        var cpu = Host(op, name, tensor);
        ArgChecks.DTypeIs(op, name, cpu, DType.I32);
        return cpu;
    }

    public static CpuTensor? OptionalF32(string op, string name, Tensor? tensor) => tensor is null ? null : F32(op, name, tensor);

    public static void Count(string op, string name, Tensor tensor, long count, string expected) => ArgChecks.Count(op, name, tensor, count, expected);

    public static void SameShape(string op, string name, Tensor tensor, string referenceName, Tensor reference) =>
        ArgChecks.SameShape(op, name, tensor, referenceName, reference);

    public static void That(bool condition, string op, string message) => ArgChecks.That(condition, op, message);

    /// <summary>Element count of the packed token tensors of an attention batch, guarding against int overflow.</summary>
    public static long Elements(int tokens, int width) => (long)tokens * width;

    private static CpuTensor Host(string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        return tensor as CpuTensor
            ?? throw new ArgumentException($"{op}: {name} {tensor} belongs to another device ({tensor.GetType().Name}); the cpu ops read only CpuTensor");
    }
}
