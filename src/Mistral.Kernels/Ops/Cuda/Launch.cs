using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>What every launcher shares: the grid arithmetic, the dtype suffix of kernel names, and the checks of what a
/// kernel adds to the IOps contract (<see cref="OpContract"/>, checked by the ops): one storage dtype for its operands,
/// fp32 accumulators. Each throws an <see cref="ArgumentException"/> naming the op and the tensors.</summary>
internal static class Launch
{
    /// <summary>Threads per block of the 1-D element-wise kernels.</summary>
    public const int ElementwiseBlock = 256;

    public static int CeilDiv(long a, long b) => checked((int)((a + b - 1) / b));

    /// <summary>"f32" or "bf16", the suffix of every kernel name; other dtypes have no kernels.</summary>
    public static string Suffix(string op, DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.BF16 => "bf16",
        _ => throw new ArgumentException($"{op}: no kernel for {dtype} storage (F32 or BF16)"),
    };

    /// <summary>Threads for a block-per-row kernel: enough for one 4-wide vector per thread, a multiple of 32, at most 256.</summary>
    public static int RowBlock(int columns) => Math.Clamp(CeilDiv(CeilDiv(columns, 4), 32) * 32, 32, 256);

    /// <summary>Launches a kernel in which each thread owns 4 consecutive of <paramref name="n"/> elements (1-D blocks).</summary>
    public static void Elementwise(IDevice device, string kernel, long n, scoped in KernelArgs args) => Elementwise(device, kernel, n, 4, args);

    /// <summary>Launches a kernel in which each thread owns 16 bytes of <paramref name="dtype"/> (4 fp32 or 8 bf16: one
    /// vector access per operand) of <paramref name="n"/> elements.</summary>
    public static void Vector16(IDevice device, string kernel, long n, DType dtype, scoped in KernelArgs args) =>
        Elementwise(device, kernel, n, 16 / dtype.SizeOf(), args);

    private static void Elementwise(IDevice device, string kernel, long n, int perThread, scoped in KernelArgs args)
    {
        if (n > 0) device.Launch(kernel, CeilDiv(CeilDiv(n, perThread), ElementwiseBlock), ElementwiseBlock, 0, args);
    }

    public static void SameDType(string op, DeviceTensor a, DeviceTensor b, string aName, string bName)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op}: {aName} is {a.DType} but {bName} is {b.DType}");
    }

    public static void DTypeIs(string op, DeviceTensor t, DType expected, string name)
    {
        if (t.DType != expected) throw new ArgumentException($"{op}: {name} must be {expected}, not {t.DType}");
    }

    public static void Count(string op, DeviceTensor t, long expected, string name)
    {
        if (t.ElementCount != expected) throw new ArgumentException($"{op}: {name} {t.Shape} must hold {expected} elements");
    }
}
