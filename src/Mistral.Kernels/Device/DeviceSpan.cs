using System.Runtime.CompilerServices;

namespace Mistral.Kernels.Device;

/// <summary>
/// A non-owning view of <see cref="Length"/> elements of <typeparamref name="T"/> at a device address. What
/// launchers and copies take; the memory belongs to a <see cref="DeviceBuffer"/>.
/// </summary>
public readonly record struct DeviceSpan<T>(ulong Pointer, long Length) where T : unmanaged
{
    public long ByteLength => Length * Unsafe.SizeOf<T>();
    public bool IsEmpty => Length == 0;

    public DeviceSpan<T> Slice(long start, long length)
    {
        if (start < 0 || length < 0 || start + length > Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) of a device span of {Length}");
        return new DeviceSpan<T>(Pointer + (ulong)(start * Unsafe.SizeOf<T>()), length);
    }

    public DeviceSpan<T> Slice(long start) => Slice(start, Length - start);

    /// <summary>The same bytes seen as another element type (the byte length must divide evenly).</summary>
    public DeviceSpan<TTo> Cast<TTo>() where TTo : unmanaged
    {
        long bytes = ByteLength;
        if (bytes % Unsafe.SizeOf<TTo>() != 0)
            throw new ArgumentException($"{bytes} bytes do not hold a whole number of {typeof(TTo).Name}");
        return new DeviceSpan<TTo>(Pointer, bytes / Unsafe.SizeOf<TTo>());
    }

    public override string ToString() => $"DeviceSpan<{typeof(T).Name}>(0x{Pointer:x}, {Length})";
}
