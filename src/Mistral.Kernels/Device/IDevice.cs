namespace Mistral.Kernels.Device;

/// <summary>
/// What the CUDA ops need from a device: memory, copies, kernel launches by extern "C" name, a GEMM and a sync.
/// Two implementations run the same kernels/cu sources: <see cref="CudaDevice"/> (NVRTC + driver API + cuBLAS) and
/// <see cref="EmulatedDevice"/> (the host compiler + kernels/emu/cuda_emu.h). Work is issued in order on one
/// stream. Uploads are stream-ordered (the source may be reused when the call returns; work issued after it sees the
/// data); downloads return when the data has arrived.
/// </summary>
public interface IDevice : IDisposable
{
    /// <summary>"cuda" or "emu".</summary>
    string Name { get; }

    DeviceInfo Info { get; }

    /// <summary>Lines that say what runs the kernels (driver, compiler, target), label then text, for `selftest`.</summary>
    IReadOnlyList<(string Label, string Text)> Details { get; }

    /// <summary>Graph capture and replay, or null when the device cannot (an emulator built with GraphCapture off).</summary>
    IGraphCapture? GraphCapture { get; }

    /// <summary>Timing by device events, or null (then a stopwatch around a synchronised run is the measure).</summary>
    IDeviceTimer? Timer { get; }

    /// <summary>Allocations not yet freed; tests assert it returns to its starting value.</summary>
    int LiveAllocations { get; }
    long LiveBytes { get; }

    /// <summary>Uninitialised device memory (the emulator fills it with NaN bytes to expose reads of unwritten memory).</summary>
    DeviceBuffer Allocate(long bytes);

    /// <summary>Queues the copy behind the work already issued without waiting for the device (staged through pinned memory).</summary>
    void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged;
    /// <summary>Waits for the work issued so far, then for the data.</summary>
    void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged;
    void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged;

    /// <summary>Sets every byte.</summary>
    void Memset(DeviceSpan<byte> destination, byte value);
    /// <summary>Sets every 32-bit word (e.g. the bits of a float).</summary>
    void Memset(DeviceSpan<uint> destination, uint value);

    /// <summary>
    /// Launches the extern "C" kernel <paramref name="kernel"/> with grid × block threads and
    /// <paramref name="sharedBytes"/> of dynamic shared memory. The module holding it is compiled and loaded on first use.
    /// </summary>
    void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args);

    /// <summary>A row-major GEMM with fp32 accumulation (cuBLAS on CUDA, a reference loop on the emulator).</summary>
    void Gemm(in GemmArgs gemm);

    /// <summary>Waits for all issued work.</summary>
    void Synchronize();
}
