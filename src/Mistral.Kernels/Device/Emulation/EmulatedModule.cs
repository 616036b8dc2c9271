using System.Runtime.InteropServices;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// One host-compiled kernels/cu file, loaded: its registration table (name, arity, argument sizes per kernel) and
/// the launch entry point of cuda_emu.h.
/// </summary>
internal sealed unsafe class EmulatedModule : IDisposable
{
    private readonly nint _library;
    private readonly delegate* unmanaged<int, uint*, uint*, uint, void**, ulong, int, byte*, int, int> _launch;
    private readonly Dictionary<string, (int Index, int[] ArgumentSizes)> _kernels = new(StringComparer.Ordinal);

    private readonly ulong _seed;
    private readonly int _flags;
    private readonly string _path;
    // The counters build's exports (cuda_emu.h, EMU_COUNTERS); null in the normal build.
    private readonly delegate* unmanaged<ulong*, int, void> _setGlobal;
    private readonly delegate* unmanaged<int> _countSites;
    private readonly delegate* unmanaged<MemoryAccessSite.Native*, int, int> _takeSites;

    /// <param name="seed">Shuffles block and thread order (cuda_emu.h); 0 runs them in order.</param>
    /// <param name="checkRaces">Fail a launch in which two threads write one shared byte with no barrier between.</param>
    public EmulatedModule(string path, string fileName, ulong seed, bool checkRaces)
    {
        FileName = fileName;
        _seed = seed;
        _flags = checkRaces ? 1 : 0;
        _path = path;
        _library = NativeLibrary.Load(path);
        if (NativeLibrary.TryGetExport(_library, "emu_counters_set_global", out var setGlobal))
        {
            _setGlobal = (delegate* unmanaged<ulong*, int, void>)setGlobal;
            _countSites = (delegate* unmanaged<int>)NativeLibrary.GetExport(_library, "emu_counters_count");
            _takeSites = (delegate* unmanaged<MemoryAccessSite.Native*, int, int>)NativeLibrary.GetExport(_library, "emu_counters_take");
        }
        var count = (delegate* unmanaged<int>)NativeLibrary.GetExport(_library, "emu_kernel_count");
        var name = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(_library, "emu_kernel_name");
        var arity = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(_library, "emu_kernel_arity");
        var sizes = (delegate* unmanaged<int, int*>)NativeLibrary.GetExport(_library, "emu_kernel_arg_sizes");
        _launch = (delegate* unmanaged<int, uint*, uint*, uint, void**, ulong, int, byte*, int, int>)NativeLibrary.GetExport(_library, "emu_launch");
        for (int i = 0, n = count(); i < n; i++)
        {
            var kernel = Marshal.PtrToStringUTF8((nint)name(i))!;
            _kernels[kernel] = (i, new ReadOnlySpan<int>(sizes(i), arity(i)).ToArray());
        }
    }

    public string FileName { get; }

    public bool Has(string kernel) => _kernels.ContainsKey(kernel);

    /// <summary>Whether this is a counters build (<see cref="EmulatorBuild.CountersFlags"/>).</summary>
    public bool Counts => _setGlobal != null;

    /// <summary>Counters build: the next launches count accesses inside these [start, end) pairs as global memory.</summary>
    public void SetGlobalRanges(ReadOnlySpan<ulong> startEndPairs)
    {
        fixed (ulong* pairs = startEndPairs) _setGlobal(pairs, startEndPairs.Length / 2);
    }

    /// <summary>Counters build: the per-instruction totals of the launches since the last call.</summary>
    public IReadOnlyList<MemoryAccessSite> TakeSites(SourceLocator locator)
    {
        var native = new MemoryAccessSite.Native[_countSites()];
        int n;
        fixed (MemoryAccessSite.Native* sites = native) n = _takeSites(sites, native.Length);
        var locations = locator.Locate(_path, native.Take(n).Select(s => s.Site).ToList());
        return native.Take(n).Select((s, i) => s.ToSite(locations[i])).ToList();
    }

    public void Launch(string kernel, Dim3 grid, Dim3 block, int sharedBytes, scoped in KernelArgs args)
    {
        if (!_kernels.TryGetValue(kernel, out var entry))
            throw new EmulatedKernelException($"kernel {kernel} is not registered in the emulated build of {FileName}");
        CheckArguments(kernel, entry.ArgumentSizes, args);
        if (sharedBytes < 0) throw new ArgumentOutOfRangeException(nameof(sharedBytes), $"kernel {kernel}: negative shared memory");

        uint* g = stackalloc uint[3] { grid.X, grid.Y, grid.Z };
        uint* b = stackalloc uint[3] { block.X, block.Y, block.Z };
        void** parameters = stackalloc void*[Math.Max(1, args.Count)];
        const int errorCapacity = 1024;
        byte* error = stackalloc byte[errorCapacity];
        int status;
        fixed (ulong* values = args.Values)
        {
            for (int i = 0; i < args.Count; i++) parameters[i] = values + i;
            status = _launch(entry.Index, g, b, (uint)sharedBytes, parameters, _seed, _flags, error, errorCapacity);
        }
        if (status != 0) throw new EmulatedKernelException(Marshal.PtrToStringUTF8((nint)error) ?? $"kernel {kernel} failed");
    }

    /// <summary>What cuLaunchKernel cannot check: the launcher passed as many arguments as the kernel takes, each of its size.</summary>
    private static void CheckArguments(string kernel, int[] expected, scoped in KernelArgs args)
    {
        if (args.Count != expected.Length)
            throw new EmulatedKernelException($"kernel {kernel} takes {expected.Length} arguments; the launcher passed {args.Count}");
        var sizes = args.ArgumentSizes;
        for (int i = 0; i < expected.Length; i++)
            if (sizes[i] != expected[i])
                throw new EmulatedKernelException($"kernel {kernel}: argument {i} is {expected[i]} bytes in the kernel, {sizes[i]} bytes from the launcher");
    }

    public void Dispose() => NativeLibrary.Free(_library);
}
