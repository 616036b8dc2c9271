using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// What <see cref="CudaOps"/> checks beyond the IOps contract (<see cref="OpContract"/>): that a tensor is one of this
/// instance's, and, where a kernel takes every float operand in one storage type, that it is stored in that dtype.
/// One ArgumentException naming the op, the argument and the tensor, thrown before anything is launched.
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

    /// <summary>A tensor of these ops stored in <paramref name="dtype"/>.</summary>
    public static CudaTensor Stored(CudaOps ops, string op, string name, Tensor tensor, DType dtype)
    {
        var t = On(ops, op, name, tensor);
        if (t.DType != dtype)
            throw new ArgumentException($"{op}: {name} {tensor} must be {dtype} (the {ops.Name} ops keep activations in {ops.ActivationDType}; every float operand of one call shares a dtype)");
        return t;
    }
}
