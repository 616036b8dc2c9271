using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Device.Emulation;

namespace Mistral.Kernels.Device;

/// <summary>
/// A CUDA device emulated on the host: "device memory" is host memory and kernels are the very kernels/cu sources,
/// compiled by the host C++ compiler against kernels/emu/cuda_emu.h (one cooperative fiber per CUDA thread) and
/// launched with the same void** arguments as cuLaunchKernel. Slow, but it runs every kernel and the whole launch
/// path in CI, where no GPU exists. Work runs synchronously on the calling thread.
/// </summary>
public sealed unsafe class EmulatedDevice : IDevice
{
    /// <summary>Bytes of guard before and after each allocation; also keeps device pointers 256-byte aligned like cuMemAlloc.</summary>
    private const int RedZone = 256;
    /// <summary>The red-zone fill: a NaN (0x7FC1FFFF) with a payload no kernel computes, so reads give NaN and writes are detectable.</summary>
    private const uint RedZoneWord = 0x7FC1FFFF;

    private readonly KernelSources _sources;
    private readonly EmulatedDeviceOptions _options;
    private readonly EmulatorBuild _build;
    private readonly Lock _gate = new();
    private readonly LiveAllocations _allocations = new();
    private readonly Dictionary<string, EmulatedModule> _modules = new(StringComparer.Ordinal);
    private bool _disposed;

    public EmulatedDevice(KernelSources sources, EmulatedDeviceOptions options)
    {
        _sources = sources;
        _options = options;
        if (options.ContractFma && !System.Runtime.Intrinsics.X86.Fma.IsSupported)
            throw new NotSupportedException("emulated device with FMA contraction: needs an x86-64 host CPU with FMA (the build uses -mfma)");
        _build = new EmulatorBuild(options.CacheDirectory, options.Compiler, options.ContractFma);
        Info = new DeviceInfo("emulated (host CPU)", 90, 1, 0, 227 * 1024, "none", "host compiler: " + options.Compiler);
    }

    public string Name => "emu";

    /// <summary>Whether the kernels were built with FMA contraction (<see cref="EmulatedDeviceOptions.ContractFma"/>).</summary>
    public bool ContractsFma => _options.ContractFma;
    public DeviceInfo Info { get; }
    public IReadOnlyList<(string Label, string Text)> Details =>
        [("compiler", $"{CompilerVersion} (kernels/cu built against kernels/emu/cuda_emu.h{(_options.ContractFma ? $", {EmulatorBuild.FmaFlags}" : "")})")];
    public IGraphCapture? GraphCapture => null;
    public IDeviceTimer? Timer => null;

    public int LiveAllocations => _allocations.Count;
    public long LiveBytes => _allocations.Bytes;

    /// <summary>The host compiler's version, e.g. "g++ 12.2.0" (runs the compiler once).</summary>
    public string CompilerVersion => _build.CompilerVersion;

    public DeviceBuffer Allocate(long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var block = (byte*)NativeMemory.AlignedAlloc((nuint)(bytes + 2 * RedZone), RedZone);
        FillWords(block, RedZone);
        FillWords(block + RedZone + bytes, RedZone);
        if (_options.PoisonAllocations) new Span<byte>(block + RedZone, checked((int)Math.Min(bytes, int.MaxValue))).Fill(0xFF);
        var buffer = new DeviceBuffer(this, (ulong)(block + RedZone), bytes, Free);
        _allocations.Add(buffer);
        return buffer;
    }

    private void Free(DeviceBuffer buffer)
    {
        if (!_allocations.Remove(buffer)) return;
        NativeMemory.AlignedFree((byte*)buffer.Pointer - RedZone);
    }

    public void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        source.CopyTo(new Span<T>((void*)destination.Pointer, source.Length));
    }

    public void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        new ReadOnlySpan<T>((void*)source.Pointer, destination.Length).CopyTo(destination);
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        Buffer.MemoryCopy((void*)source.Pointer, (void*)destination.Pointer, destination.ByteLength, source.ByteLength);
    }

    public void Memset(DeviceSpan<byte> destination, byte value) =>
        new Span<byte>((void*)destination.Pointer, checked((int)destination.Length)).Fill(value);

    public void Memset(DeviceSpan<uint> destination, uint value) =>
        new Span<uint>((void*)destination.Pointer, checked((int)destination.Length)).Fill(value);

    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ModuleFor(kernel).Launch(kernel, grid, block, sharedBytes, args);
        if (_options.CheckRedZones) CheckRedZones(kernel);
    }

    public void Gemm(in GemmArgs gemm) => EmulatedGemm.Run(gemm);

    public void Synchronize() { }

    /// <summary>Builds (or finds in the cache) and loads every kernels/cu file now, e.g. before timing a sweep.</summary>
    public void LoadAll()
    {
        foreach (var file in _sources.Files)
            if (file.EntryPoints.Count > 0) ModuleFor(file.EntryPoints[0]);
    }

    private EmulatedModule ModuleFor(string kernel)
    {
        var file = _sources.FileOf(kernel);
        lock (_gate)
        {
            if (_modules.TryGetValue(file.Name, out var module)) return module;
        }
        var path = _build.LibraryFor(_sources, file);
        lock (_gate)
        {
            if (!_modules.TryGetValue(file.Name, out var module))
                _modules[file.Name] = module = new EmulatedModule(path, file.Name, _options.ScheduleSeed, _options.CheckSharedRaces);
            return module;
        }
    }

    private void CheckRedZones(string kernel)
    {
        _allocations.ForEach(buffer =>
        {
            var start = (byte*)buffer.Pointer;
            int before = DamagedBytes(start - RedZone, fromEnd: true);
            int after = DamagedBytes(start + buffer.ByteLength, fromEnd: false);
            if (before == 0 && after == 0) return;
            FillWords(start - RedZone, RedZone);
            FillWords(start + buffer.ByteLength, RedZone);
            throw new EmulatedKernelException(after > 0
                ? $"kernel {kernel} wrote out of bounds: up to byte {after - 1} past the end of a {buffer.ByteLength}-byte buffer at 0x{buffer.Pointer:x}"
                : $"kernel {kernel} wrote out of bounds: {before} bytes before the start of a {buffer.ByteLength}-byte buffer at 0x{buffer.Pointer:x}");
        });
    }

    /// <summary>How far into the red zone writes reached, counted from the buffer's edge (0 = intact).</summary>
    private static int DamagedBytes(byte* zone, bool fromEnd)
    {
        for (int i = 0; i < RedZone; i++)
        {
            int offset = fromEnd ? i : RedZone - 1 - i;
            if (zone[offset] != (byte)(RedZoneWord >> (8 * (offset & 3)))) return RedZone - i;
        }
        return 0;
    }

    private static void FillWords(byte* p, int bytes) => new Span<uint>(p, bytes / 4).Fill(RedZoneWord);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _allocations.DisposeAll();
        foreach (var module in _modules.Values) module.Dispose();
        _modules.Clear();
    }
}
