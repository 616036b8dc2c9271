using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Argument validation of <see cref="CudaOps"/>: one ArgumentException naming the op, the argument and the shapes,
/// thrown before anything is launched (the kernels assume their preconditions). The shape checks are
/// <see cref="ArgChecks"/>'s, shared with the cpu ops; this class adds what tells a cuda tensor of this instance apart.
/// </summary>
internal static class DeviceChecks
{
    public static CudaTensor On(CudaOps ops, string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        var device = tensor as CudaTensor
            ?? throw new ArgumentException($"{op}: {name} {tensor} belongs to another device ({tensor.GetType().Name}); {ops.Name} ops read only their own tensors");
        if (!ReferenceEquals(device.Pool, ops.Pool))
            throw new ArgumentException($"{op}: {name} {tensor} was allocated by another {ops.Name} ops instance");
        return device;
    }

    /// <summary>A float tensor stored in <paramref name="dtype"/>.</summary>
    public static CudaTensor Float(CudaOps ops, string op, string name, Tensor tensor, DType dtype)
    {
        var t = On(ops, op, name, tensor);
        if (t.DType != dtype)
            throw new ArgumentException($"{op}: {name} {tensor} must be {dtype} (the {ops.Name} ops keep activations in {ops.ActivationDType}; every float operand of one call shares a dtype)");
        return t;
    }

    public static CudaTensor F32(CudaOps ops, string op, string name, Tensor tensor) => Float(ops, op, name, tensor, DType.F32);

    public static CudaTensor Int(CudaOps ops, string op, string name, Tensor tensor)
    {
        var t = On(ops, op, name, tensor);
        ArgChecks.DTypeIs(op, name, t, DType.I32);
        return t;
    }

    public static void Count(string op, string name, Tensor tensor, long count, string expected) => ArgChecks.Count(op, name, tensor, count, expected);

    public static void SameShape(string op, string name, Tensor tensor, string referenceName, Tensor reference) =>
        ArgChecks.SameShape(op, name, tensor, referenceName, reference);

    public static void That(bool condition, string op, string message) => ArgChecks.That(condition, op, message);
}
