using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>
/// The device-independent half of argument validation of the IOps contract, one copy for every implementation
/// (<see cref="Reference.OpChecks"/> for the cpu ops, <see cref="Cuda.DeviceChecks"/> for the cuda and emulated ops add
/// only what tells their own tensors apart): every failure is one ArgumentException naming the op, the argument and
/// the shapes involved, thrown before anything is written or launched.
/// </summary>
internal static class ArgChecks
{
    /// <summary>Requires exactly <paramref name="dtype"/> (no conversion is implied).</summary>
    public static void DTypeIs(string op, string name, Tensor tensor, DType dtype)
    {
        if (tensor.DType != dtype)
            throw new ArgumentException($"{op}: {name} {tensor} must be {dtype}");
    }

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
}
