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
/// Graph capture (<see cref="Capture"/>) records instead of running and refuses, naming it, what the driver refuses
/// while a stream is capturing: synchronisation, allocation and freeing, copies to or from host memory.
/// </summary>
public sealed unsafe class EmulatedDevice : IDevice, IGraphCapture
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
    private readonly StagingRing _staging = new(StagingRing.DefaultCapacity);
    private long _synchronizations;
    private List<(string What, Action Run)>? _capture;   // the graph being recorded, or null
    private string? _captureRefused;                        // the first refused call of this capture
    private readonly SourceLocator _locator = new();
    /// <summary>Counters-build launches, process-wide: devices share a kernel library when they share a cache.</summary>
    private static readonly Lock CountersGate = new();
    private bool _disposed;

    public EmulatedDevice(KernelSources sources, EmulatedDeviceOptions options)
    {
        _sources = sources;
        _options = options;
        if (options.ContractFma && !System.Runtime.Intrinsics.X86.Fma.IsSupported)
            throw new NotSupportedException("emulated device with FMA contraction: needs an x86-64 host CPU with FMA (the build uses -mfma)");
        _build = new EmulatorBuild(options.CacheDirectory, options.Compiler, options.ContractFma, options.CountMemoryAccesses);
        Counters = options.CountMemoryAccesses ? new MemoryAccessCounters() : null;
        Info = new DeviceInfo("emulated (host CPU)", 90, 1, 0, 227 * 1024, "none", "host compiler: " + options.Compiler);
    }

    public string Name => "emu";

    /// <summary>Whether the kernels were built with FMA contraction (<see cref="EmulatedDeviceOptions.ContractFma"/>).</summary>
    public bool ContractsFma => _options.ContractFma;
    public DeviceInfo Info { get; }

    /// <summary>Shared-memory bank conflicts and global sectors per kernel, with
    /// <see cref="EmulatedDeviceOptions.CountMemoryAccesses"/>; otherwise null.</summary>
    public MemoryAccessCounters? Counters { get; }
    public IReadOnlyList<(string Label, string Text)> Details =>
        [("compiler", $"{CompilerVersion} (kernels/cu built against kernels/emu/cuda_emu.h{(_options.ContractFma ? $", {EmulatorBuild.FmaFlags}" : "")}{(Counters is null ? "" : ", memory-access counters")})")];
    public IGraphCapture? GraphCapture => _options.GraphCapture ? this : null;
    public IDeviceTimer? Timer => null;

    /// <summary>
    /// How many times the host has waited for the device so far, counting what <see cref="CudaDevice"/> would wait for:
    /// <see cref="Synchronize"/>, each download, and each time the upload staging ring wraps over copies in flight.
    /// Tests hold code to the waits its design states (a decode step: one, for the chosen ids).
    /// </summary>
    public long Synchronizations => Interlocked.Read(ref _synchronizations);

    public int LiveAllocations => _allocations.Count;
    public long LiveBytes => _allocations.Bytes;

    /// <summary>The host compiler's version, e.g. "g++ 12.2.0" (runs the compiler once).</summary>
    public string CompilerVersion => _build.CompilerVersion;

    public DeviceBuffer Allocate(long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        RefuseWhileCapturing($"Allocate({bytes} bytes)", "cuMemAlloc is not permitted while a stream captures; a memory pool must not grow inside a captured step");
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
        RefuseWhileCapturing($"freeing {buffer}", "cuMemFree synchronises the device, which a capturing stream may not");
        if (!_allocations.Remove(buffer)) return;
        NativeMemory.AlignedFree((byte*)buffer.Pointer - RedZone);
    }

    public void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        RefuseWhileCapturing($"CopyToDevice of {destination.ByteLength} bytes", "the graph would replay the copy from a staging buffer reused since; write a step's inputs before replaying it");
        // Stream-ordered like CudaDevice: staged through the same ring, waiting only when it wraps over copies in flight.
        lock (_gate)
            for (long done = 0, total = destination.ByteLength; done < total; done += _staging.Capacity)
                if (_staging.Place(Math.Min(total - done, _staging.Capacity)).WaitFirst) Waited();
        source.CopyTo(new Span<T>((void*)destination.Pointer, source.Length));
    }

    public void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        RefuseWhileCapturing($"CopyToHost of {source.ByteLength} bytes", "a download waits for the stream; read the result after replaying");
        new ReadOnlySpan<T>((void*)source.Pointer, destination.Length).CopyTo(destination);
        Drained();
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        ulong from = source.Pointer, to = destination.Pointer;
        long bytes = source.ByteLength;
        Issue("copy", () => Buffer.MemoryCopy((void*)from, (void*)to, bytes, bytes));
    }

    public void Memset(DeviceSpan<byte> destination, byte value)
    {
        var (p, n) = (destination.Pointer, checked((int)destination.Length));
        Issue("memset", () => new Span<byte>((void*)p, n).Fill(value));
    }

    public void Memset(DeviceSpan<uint> destination, uint value)
    {
        var (p, n) = (destination.Pointer, checked((int)destination.Length));
        Issue("memset", () => new Span<uint>((void*)p, n).Fill(value));
    }

    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var module = ModuleFor(kernel);   // loaded now, as cuModuleLoad would be before capture
        if (_capture is null)
        {
            Run(module, kernel, grid, block, sharedBytes, args);
            return;
        }
        // A kernel node keeps the argument values as they were at capture, device pointers included.
        var values = args.Values.ToArray();
        var sizes = args.ArgumentSizes.ToArray();
        _capture.Add(($"launch {kernel}", () => Run(module, kernel, grid, block, sharedBytes, KernelArgs.FromSlots(values, sizes))));
    }

    private void Run(EmulatedModule module, string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Counters is null)
        {
            module.Launch(kernel, grid, block, sharedBytes, args);
        }
        else
        {
            // A library keeps one set of counters (cuda_emu.h): a launch and the reading of its totals go together.
            IReadOnlyList<MemoryAccessSite> sites;
            lock (CountersGate)
            {
                module.SetGlobalRanges(AllocationRanges());
                module.Launch(kernel, grid, block, sharedBytes, args);
                sites = module.TakeSites(_locator);
            }
            Counters.Add(kernel, sites);
        }
        if (_options.CheckRedZones) CheckRedZones(kernel);
    }

    /// <summary>Every live allocation as a [start, end) pair: what the counters build counts as global memory.</summary>
    private ulong[] AllocationRanges()
    {
        var pairs = new List<ulong>();
        _allocations.ForEach(b => pairs.AddRange([b.Pointer, b.Pointer + (ulong)b.ByteLength]));
        return pairs.ToArray();
    }

    /// <summary>Runs (or records) the cuBLAS call <see cref="CudaBlas"/> would make for <paramref name="gemm"/>, as built there.</summary>
    public void Gemm(in GemmArgs gemm)
    {
        var call = CublasGemmCall.From(gemm);
        Issue("gemm", () => EmulatedGemm.Run(call));
    }

    public void Synchronize()
    {
        RefuseWhileCapturing("Synchronize", "cuStreamSynchronize on a capturing stream");
        Drained();
    }

    /// <summary>The host waited for all issued work: counted, and the staging ring is free.</summary>
    private void Drained()
    {
        lock (_gate) _staging.Drained();
        Waited();
    }

    private void Waited() => Interlocked.Increment(ref _synchronizations);

    /// <summary>
    /// Records everything <paramref name="body"/> issues instead of running it; the graph replays it. Throws (a
    /// <see cref="Native.CudaException"/>, as the driver would) at the first call that a capturing stream refuses, naming it.
    /// </summary>
    public IDeviceGraph Capture(Action body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_capture is not null) throw CaptureRefusal.For("Capture", "the stream is already capturing");
        var nodes = new List<(string What, Action Run)>();
        _capture = nodes;
        _captureRefused = null;
        try
        {
            body();
        }
        finally
        {
            _capture = null;
        }
        if (_captureRefused is { } refused) throw CaptureRefusal.Invalidated(refused);   // the body caught a refusal and went on
        return new EmulatedGraph(nodes);
    }

    /// <summary>True while <see cref="Capture"/> records.</summary>
    public bool IsCapturing => _capture is not null;

    /// <summary>Runs stream work now, or records it into the graph being captured.</summary>
    private void Issue(string what, Action work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_capture is null) work();
        else _capture.Add((what, work));
    }

    private void RefuseWhileCapturing(string operation, string why)
    {
        if (_capture is null) return;
        _captureRefused ??= operation;
        throw CaptureRefusal.For(operation, why);
    }

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
