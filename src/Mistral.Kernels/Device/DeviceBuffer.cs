using System.Runtime.CompilerServices;

namespace Mistral.Kernels.Device;

/// <summary>
/// Owns one device allocation; the only type that frees device memory. Dispose it (or let the device dispose it
/// with itself). Views of it are <see cref="DeviceSpan{T}"/>s.
/// </summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly Action<DeviceBuffer> _free;
    private int _disposed;

    internal DeviceBuffer(IDevice device, ulong pointer, long bytes, Action<DeviceBuffer> free)
    {
        Device = device;
        Pointer = pointer;
        ByteLength = bytes;
        _free = free;
    }

    public IDevice Device { get; }
    public ulong Pointer { get; }
    public long ByteLength { get; }
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The whole buffer as elements of <typeparamref name="T"/> (the byte length must divide evenly).</summary>
    public DeviceSpan<T> AsSpan<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (ByteLength % Unsafe.SizeOf<T>() != 0)
            throw new ArgumentException($"a buffer of {ByteLength} bytes does not hold a whole number of {typeof(T).Name}");
        return new DeviceSpan<T>(Pointer, ByteLength / Unsafe.SizeOf<T>());
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _free(this);
    }

    public override string ToString() => $"DeviceBuffer(0x{Pointer:x}, {ByteLength} bytes on {Device.Name})";
}
