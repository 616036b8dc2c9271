using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Text;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;

namespace Mistral.Kernels.Device;

/// <summary>
/// One GPU through the driver API: its primary context, one non-blocking stream all work is issued on, the device
/// allocations (counted), the kernel modules (compiled by NVRTC on first use, cached on disk) and a cuBLAS handle.
/// Owns its children and disposes them before releasing the context. Every public call makes the context current
/// on the calling thread first.
/// </summary>
public sealed unsafe class CudaDevice : IDevice, IGraphCapture, IDeviceTimer
{
    /// <summary>Above this, a kernel must opt in to dynamic shared memory (cuFuncSetAttribute).</summary>
    private const int DefaultSharedLimit = 48 * 1024;

    private readonly CudaDeviceOptions _options;
    private readonly CuContextHandle _context;
    private readonly CuStreamHandle _stream;
    private readonly KernelCache _cache;
    private readonly CompileTarget _target;
    private readonly Lock _gate = new();
    private readonly LiveAllocations _allocations = new();
    private readonly Dictionary<string, KernelModule> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<nint, int> _sharedOptIn = new();
    private readonly StagingRing _staging = new(StagingRing.DefaultCapacity);
    private nint _stagingMemory;        // pinned host memory of the ring, allocated at the first upload
    private CuEventHandle? _stagedCopy; // recorded after each copy from the ring: waiting on it frees the ring
    private CudaBlas? _blas;
    private bool _capturing;
    private bool _disposed;

    private CudaDevice(CudaDeviceOptions options, CuContextHandle context, CuStreamHandle stream, DeviceInfo info, CompileTarget target)
    {
        _options = options;
        _context = context;
        _stream = stream;
        Info = info;
        _target = target;
        _cache = new KernelCache(options.CacheDirectory, new KernelCompiler());
    }

    /// <summary>
    /// Opens GPU <paramref name="ordinal"/>. Throws <see cref="NativeLibraryMissingException"/> without a driver,
    /// <see cref="NoCudaDeviceException"/> when the driver finds no such GPU.
    /// </summary>
    public static CudaDevice Open(int ordinal, CudaDeviceOptions options)
    {
        var init = LibCuda.cuInit(0);
        if (init == CuResult.CUDA_ERROR_NO_DEVICE)
            throw new NoCudaDeviceException($"the CUDA driver ({NativeLibraryLoader.LoadedPath(LibCuda.Library)}) is installed but reports no GPU (cuInit: CUDA_ERROR_NO_DEVICE)");
        CudaException.Check(init);
        CudaException.Check(LibCuda.cuDeviceGetCount(out int count));
        if (ordinal < 0 || ordinal >= count)
            throw new NoCudaDeviceException($"no GPU with ordinal {ordinal}: the driver reports {count}");
        CudaException.Check(LibCuda.cuDeviceGet(out int device, ordinal));

        var info = Query(device);
        var target = ChooseTarget(info.ComputeCapability, Version.Parse(info.DriverVersion));
        CudaException.Check(LibCuda.cuDevicePrimaryCtxRetain(out nint rawContext, device));
        var context = new CuContextHandle(rawContext, device);
        context.MakeCurrent();
        CudaException.Check(LibCuda.cuStreamCreate(out nint rawStream, LibCuda.CU_STREAM_NON_BLOCKING));
        var stream = new CuStreamHandle(context, rawStream);
        return new CudaDevice(options, context, stream, info, target);
    }

    public string Name => "cuda";
    public DeviceInfo Info { get; }
    public IGraphCapture? GraphCapture => this;
    public IDeviceTimer? Timer => this;

    public IReadOnlyList<(string Label, string Text)> Details =>
    [
        ("compute", $"sm_{Info.ComputeCapability}, {Info.Multiprocessors} SMs, {Info.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {Info.MaxSharedMemoryPerBlock / 1024} KiB shared/block"),
        ("driver", $"CUDA {Info.DriverVersion} ({NativeLibraryLoader.LoadedPath(LibCuda.Library)})"),
        ("compiler", $"{Info.CompilerVersion} ({NativeLibraryLoader.LoadedPath(LibNvrtc.Library)}), target {Target}"),
        ("cublas", $"{BlasVersion} ({NativeLibraryLoader.LoadedPath(LibCublas.Library)})"),
    ];

    /// <summary>What kernels are compiled for on this device (sm_90a on Hopper when NVRTC allows).</summary>
    public CompileTarget Target => _target;
    internal CuContextHandle Context => _context;
    internal nint Stream => _stream.DangerousGetHandle();

    public int LiveAllocations => _allocations.Count;
    public long LiveBytes => _allocations.Bytes;

    public DeviceBuffer Allocate(long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuMemAlloc_v2(out ulong pointer, (nuint)Math.Max(1, bytes)), $"cuMemAlloc_v2({bytes} bytes)");
        var buffer = new DeviceBuffer(this, pointer, bytes, Free);
        _allocations.Add(buffer);
        return buffer;
    }

    private void Free(DeviceBuffer buffer)
    {
        if (!_allocations.Remove(buffer)) return;
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuMemFree_v2(buffer.Pointer));
    }

    /// <summary>
    /// Stream-ordered: the bytes are copied into the pinned staging ring and the copy to the device is queued behind
    /// the work already issued, without waiting for it; <paramref name="source"/> may be reused when this returns. The
    /// host waits only when the ring wraps over copies still in flight (<see cref="StagingRing"/>).
    /// </summary>
    public void CopyToDevice<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        if (_capturing)
            throw CaptureRefusal.For($"CopyToDevice of {destination.ByteLength} bytes", "the graph would replay the copy from a staging buffer reused since; write a step's inputs before replaying it");
        _context.MakeCurrent();
        var bytes = MemoryMarshal.AsBytes(source);
        lock (_gate)
        {
            if (_stagingMemory == 0)
            {
                CudaException.Check(LibCuda.cuMemHostAlloc(out _stagingMemory, (nuint)_staging.Capacity, 0), $"cuMemHostAlloc(upload staging, {_staging.Capacity} bytes)");
                CudaException.Check(LibCuda.cuEventCreate(out nint rawEvent, LibCuda.CU_EVENT_DISABLE_TIMING));
                _stagedCopy = new CuEventHandle(_context, rawEvent);
            }
            for (long done = 0; done < bytes.Length;)
            {
                int chunk = (int)Math.Min(bytes.Length - done, _staging.Capacity);
                var (offset, waitFirst) = _staging.Place(chunk);
                if (waitFirst) CudaException.Check(LibCuda.cuEventSynchronize(_stagedCopy!.DangerousGetHandle()));
                var staged = (byte*)_stagingMemory + offset;
                bytes.Slice((int)done, chunk).CopyTo(new Span<byte>(staged, chunk));
                CudaException.Check(LibCuda.cuMemcpyHtoDAsync_v2(destination.Pointer + (ulong)done, staged, (nuint)chunk, Stream));
                CudaException.Check(LibCuda.cuEventRecord(_stagedCopy!.DangerousGetHandle(), Stream));
                done += chunk;
            }
        }
    }

    /// <summary>Waits for the stream: the data is in <paramref name="destination"/> when this returns.</summary>
    public void CopyToHost<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        if (_capturing)
            throw CaptureRefusal.For($"CopyToHost of {source.ByteLength} bytes", "a download waits for the stream; read the result after replaying");
        _context.MakeCurrent();
        fixed (T* p = destination) CudaException.Check(LibCuda.cuMemcpyDtoHAsync_v2(p, source.Pointer, (nuint)source.ByteLength, Stream));
        SynchronizeStream();
    }

    private void SynchronizeStream()
    {
        CudaException.Check(LibCuda.cuStreamSynchronize(Stream));
        lock (_gate) _staging.Drained();
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        CopyChecks.SameLength(source.Length, destination.Length);
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuMemcpyDtoDAsync_v2(destination.Pointer, source.Pointer, (nuint)source.ByteLength, Stream));
    }

    public void Memset(DeviceSpan<byte> destination, byte value)
    {
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuMemsetD8Async(destination.Pointer, value, (nuint)destination.Length, Stream));
    }

    public void Memset(DeviceSpan<uint> destination, uint value)
    {
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuMemsetD32Async(destination.Pointer, value, (nuint)destination.Length, Stream));
    }

    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _context.MakeCurrent();
        var function = ModuleFor(kernel).Function(kernel);
        if (sharedBytes > DefaultSharedLimit) OptInSharedMemory(kernel, function, sharedBytes);
        void** parameters = stackalloc void*[Math.Max(1, args.Count)];
        fixed (ulong* values = args.Values)
        {
            for (int i = 0; i < args.Count; i++) parameters[i] = values + i;
            CudaException.Check(LibCuda.cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
                (uint)sharedBytes, Stream, parameters, null), $"cuLaunchKernel({kernel}, grid {grid}, block {block}, shared {sharedBytes})");
        }
    }

    public void Gemm(in GemmArgs gemm)
    {
        _context.MakeCurrent();
        Blas().Gemm(gemm);
    }

    /// <summary>"12.4.5": the cuBLAS this device uses (creates its handle and workspace if no GEMM has yet).</summary>
    public string BlasVersion
    {
        get
        {
            _context.MakeCurrent();
            return Blas().Version;
        }
    }

    private CudaBlas Blas()
    {
        lock (_gate) return _blas ??= new CudaBlas(_context, Stream, Info.ComputeCapability);
    }

    public void Synchronize()
    {
        _context.MakeCurrent();
        SynchronizeStream();
    }

    /// <summary>True once all issued work has finished (cuStreamQuery), without blocking: for waits that must time out (collectives).</summary>
    internal bool IsIdle()
    {
        _context.MakeCurrent();
        var status = LibCuda.cuStreamQuery(Stream);
        if (status == CuResult.CUDA_ERROR_NOT_READY) return false;
        CudaException.Check(status, "cuStreamQuery");
        return true;
    }

    /// <summary>Records everything <paramref name="body"/> issues on this device's stream into a launchable CUDA graph (nothing runs while capturing).</summary>
    public IDeviceGraph Capture(Action body)
    {
        _context.MakeCurrent();
        Blas(); // the handle and its workspace exist before capture: nothing in the graph allocates
        CudaException.Check(LibCuda.cuStreamBeginCapture_v2(Stream, LibCuda.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        _capturing = true;
        try
        {
            body();
        }
        catch
        {
            _capturing = false;
            // End the (now invalidated) capture so the stream works again, and report the body's error, which names
            // the refused call, rather than EndCapture's CUDA_ERROR_STREAM_CAPTURE_INVALIDATED.
            if (LibCuda.cuStreamEndCapture(Stream, out nint broken) == CuResult.CUDA_SUCCESS && broken != 0)
                new CuGraphHandle(_context, broken).Dispose();
            throw;
        }
        _capturing = false;
        CudaException.Check(LibCuda.cuStreamEndCapture(Stream, out nint graph));
        using var graphHandle = new CuGraphHandle(_context, graph);
        CudaException.Check(LibCuda.cuGraphInstantiateWithFlags(out nint exec, graph, 0));
        return new CudaGraph(this, new CuGraphExecHandle(_context, exec));
    }

    /// <summary>Milliseconds the GPU spent on the work <paramref name="body"/> issues (events around it).</summary>
    public float Time(Action body)
    {
        _context.MakeCurrent();
        CudaException.Check(LibCuda.cuEventCreate(out nint rawStart, LibCuda.CU_EVENT_DEFAULT));
        using var start = new CuEventHandle(_context, rawStart);
        CudaException.Check(LibCuda.cuEventCreate(out nint rawEnd, LibCuda.CU_EVENT_DEFAULT));
        using var end = new CuEventHandle(_context, rawEnd);
        CudaException.Check(LibCuda.cuEventRecord(rawStart, Stream));
        body();
        CudaException.Check(LibCuda.cuEventRecord(rawEnd, Stream));
        CudaException.Check(LibCuda.cuEventSynchronize(rawEnd));
        CudaException.Check(LibCuda.cuEventElapsedTime(out float ms, rawStart, rawEnd));
        return ms;
    }

    private KernelModule ModuleFor(string kernel)
    {
        var file = _options.Sources.FileOf(kernel);
        lock (_gate)
        {
            if (_modules.TryGetValue(file.Name, out var module)) return module;
            var compiled = _cache.GetOrCompile(_options.Sources, file, _target);
            _modules[file.Name] = module = new KernelModule(_context, compiled);
            return module;
        }
    }

    private void OptInSharedMemory(string kernel, nint function, int sharedBytes)
    {
        lock (_gate)
        {
            if (_sharedOptIn.TryGetValue(function, out int granted) && granted >= sharedBytes) return;
            if (sharedBytes > Info.MaxSharedMemoryPerBlock)
                throw new ArgumentException($"kernel {kernel} asks for {sharedBytes} bytes of shared memory; {Info.Name} allows {Info.MaxSharedMemoryPerBlock}");
            CudaException.Check(LibCuda.cuFuncSetAttribute(function, LibCuda.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes));
            _sharedOptIn[function] = sharedBytes;
        }
    }

    private static DeviceInfo Query(int device)
    {
        byte* name = stackalloc byte[256];
        CudaException.Check(LibCuda.cuDeviceGetName(name, 256, device));
        int Attribute(int attribute)
        {
            CudaException.Check(LibCuda.cuDeviceGetAttribute(out int value, attribute, device));
            return value;
        }
        CudaException.Check(LibCuda.cuDeviceTotalMem_v2(out nuint memory, device));
        CudaException.Check(LibCuda.cuDriverGetVersion(out int driver));
        string nvrtc;
        try { nvrtc = "NVRTC " + KernelCompiler.Version(); }
        catch (NativeLibraryMissingException) { nvrtc = "NVRTC not found"; }
        return new DeviceInfo(
            new string((sbyte*)name),
            Attribute(LibCuda.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10 + Attribute(LibCuda.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
            Attribute(LibCuda.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
            (long)memory,
            Attribute(LibCuda.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
            $"{driver / 1000}.{driver % 1000 / 10}",
            nvrtc);
    }

    /// <summary>The compile target for this GPU from the loaded NVRTC and driver (<see cref="CompileTarget.Choose"/>).</summary>
    private static CompileTarget ChooseTarget(int computeCapability, Version driver) =>
        CompileTarget.Choose(computeCapability, KernelCompiler.LoadedVersion(), KernelCompiler.SupportedArchitectures(), driver);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _allocations.DisposeAll();
        _blas?.Dispose();
        _stagedCopy?.Dispose();
        if (_stagingMemory != 0) LibCuda.cuMemFreeHost(_stagingMemory);
        foreach (var module in _modules.Values) module.Dispose();
        _modules.Clear();
        _stream.Dispose();
        _context.Dispose();
    }
}
