using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Mistral.Kernels.Device;

/// <summary>
/// The argument list of one kernel launch, built on the stack: each argument (device pointer, int, float, ...) is
/// stored in its own 8-byte slot, and the launch passes a pointer to each slot (cuLaunchKernel's void** params).
/// Sizes are kept so the emulated device can check them against the kernel's C++ signature.
/// </summary>
public ref struct KernelArgs
{
    public const int MaxCount = 24;

    private Slots _values;
    private Sizes _sizes;

    public int Count { get; private set; }

    /// <summary>Appends one argument of at most 8 bytes, exactly as the kernel's parameter type is laid out.</summary>
    public void Add<T>(T value) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() > 8) throw new ArgumentException($"kernel argument {typeof(T).Name} is larger than 8 bytes; pass a device pointer to a parameter struct");
        if (Count == MaxCount) throw new InvalidOperationException($"more than {MaxCount} kernel arguments");
        ulong slot = 0;
        Unsafe.WriteUnaligned(ref Unsafe.As<ulong, byte>(ref slot), value);
        _values[Count] = slot;
        _sizes[Count] = Unsafe.SizeOf<T>();
        Count++;
    }

    public void Add<T>(DeviceSpan<T> span) where T : unmanaged => Add(span.Pointer);

    /// <summary>The argument list again from its slots and sizes, as a graph keeps it from capture to replay.</summary>
    internal static KernelArgs FromSlots(ReadOnlySpan<ulong> values, ReadOnlySpan<int> sizes)
    {
        var args = new KernelArgs();
        for (int i = 0; i < values.Length; i++)
        {
            args._values[i] = values[i];
            args._sizes[i] = sizes[i];
        }
        args.Count = values.Length;
        return args;
    }

    /// <summary>The slots; pin (fixed) and point into them to build void** params.</summary>
    [UnscopedRef] public readonly ReadOnlySpan<ulong> Values => ((ReadOnlySpan<ulong>)_values)[..Count];
    [UnscopedRef] public readonly ReadOnlySpan<int> ArgumentSizes => ((ReadOnlySpan<int>)_sizes)[..Count];

    [InlineArray(MaxCount)]
    private struct Slots
    {
        private ulong _element;
    }

    [InlineArray(MaxCount)]
    private struct Sizes
    {
        private int _element;
    }
}
