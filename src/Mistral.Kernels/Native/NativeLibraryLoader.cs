using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// Finds libcuda, libnvrtc, libcublas, libnccl and libmpi for the <c>[LibraryImport]</c> declarations in this folder. Probe order, per
/// library: the directory given to <see cref="SetSearchDirectory"/> (the CLI's --cuda-lib-dir), $CUDA_PATH/lib64,
/// $CUDA_HOME/lib64, /usr/local/cuda/lib64, then the system loader's own search by soname (LD_LIBRARY_PATH). Newest
/// major first, each major tried in every place before the next older one, but never a major newer than the driver's
/// (<see cref="CandidateSonames"/>): CUDA 13 libraries on a 12.x driver load, then fail at cuModuleLoadData or
/// cublasCreate. When nothing loads, one <see cref="NativeLibraryMissingException"/> names the library and every path
/// tried. This class is the only place below the CLI that reads environment variables, and its caches are
/// the only static mutable state in the library (one process has one set of native libraries).
/// </summary>
public static class NativeLibraryLoader
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, nint> Loaded = new();
    private static readonly Dictionary<string, string> LoadedPaths = new();
    private static string? _searchDirectory;

    private static readonly Dictionary<string, string[]> Sonames = new()
    {
        [LibCuda.Library] = ["libcuda.so.1", "libcuda.so"],
        [LibNvrtc.Library] = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
        [LibCublas.Library] = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"],
        // NCCL 2.x from the CUDA install or PyTorch's nvidia-nccl wheel (point --cuda-lib-dir at its lib folder).
        [LibNccl.Library] = ["libnccl.so.2", "libnccl.so"],
        // OpenMPI only: MPICH's libmpi.so.12 has another ABI (integer handles), see LibMpi.
        [LibMpi.Library] = ["libmpi.so.40"],
    };

    // The resolver must be in place before any P/Invoke of this assembly runs, whoever makes the first call; a module
    // initializer is the one hook that guarantees that.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    /// <summary>A directory searched before all others (e.g. a private NVRTC unpacked by .ci/install-nvrtc). Call before the first native call.</summary>
    public static void SetSearchDirectory(string? directory)
    {
        lock (Gate) _searchDirectory = string.IsNullOrWhiteSpace(directory) ? null : directory;
    }

    /// <summary>The OS handle of <paramref name="library"/>, loading it if needed (to look up exported data symbols such as OpenMPI's predefined handles).</summary>
    public static nint Handle(string library) => Load(library);

    /// <summary>Loads <paramref name="library"/> ("cuda", "nvrtc", "cublas", "nccl", "mpi") now; false with the reason when it cannot be found.</summary>
    public static bool TryLoad(string library, out string reason)
    {
        try
        {
            Load(library);
            reason = "";
            return true;
        }
        catch (NativeLibraryMissingException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The file a library was loaded from, or null if it has not been loaded.</summary>
    public static string? LoadedPath(string library)
    {
        lock (Gate) return LoadedPaths.GetValueOrDefault(library);
    }

    /// <summary>
    /// The sonames tried for <paramref name="library"/>, newest first, leaving out majors above
    /// <paramref name="driverMajor"/> (the major of cuDriverGetVersion; null where no driver is loaded, e.g. a CI
    /// machine compiling with NVRTC alone, which keeps them all). The unversioned name comes last, whatever it links to.
    /// </summary>
    public static IReadOnlyList<string> CandidateSonames(string library, int? driverMajor)
    {
        var all = Sonames[library];
        if (driverMajor is not { } limit || library == LibCuda.Library) return all;
        return all.Where(s => SonameMajor(s) is not { } major || major <= limit).ToArray();
    }

    /// <summary>13 for "libnvrtc.so.13", 11 for "libnvrtc.so.11.2", null for "libnvrtc.so".</summary>
    internal static int? SonameMajor(string soname)
    {
        int at = soname.IndexOf(".so.", StringComparison.Ordinal);
        if (at < 0) return null;
        var version = soname[(at + 4)..];
        int dot = version.IndexOf('.');
        return int.TryParse(dot < 0 ? version : version[..dot], out int major) ? major : null;
    }

    /// <summary>The loaded driver's CUDA version (12040 for 12.4), or null where libcuda is absent.</summary>
    public static int? DriverVersion()
    {
        lock (Gate)
        {
            if (!TryLoad(LibCuda.Library, out _)) return null;
            // Through the export, not LibCuda's P/Invoke: this runs inside the resolver, before nvrtc/cublas load.
            if (!NativeLibrary.TryGetExport(Loaded[LibCuda.Library], "cuDriverGetVersion", out var export)) return null;
            int version;
            int status;
            unsafe { status = ((delegate* unmanaged<int*, int>)export)(&version); }
            return status == 0 ? version : null;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        Sonames.ContainsKey(name) ? Load(name) : 0;

    private static nint Load(string library)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(library, out var cached)) return cached;
            int? driverMajor = library == LibCuda.Library ? null : DriverVersion() / 1000;
            var sonames = CandidateSonames(library, driverMajor);
            var tried = new List<string>();
            foreach (var soname in sonames)
            {
                foreach (var dir in SearchDirectories())
                {
                    var path = Path.Combine(dir, soname);
                    tried.Add(path);
                    if (!File.Exists(path)) continue;
                    PreloadCompanions(library, dir);
                    if (NativeLibrary.TryLoad(path, out var handle)) return Remember(library, path, handle);
                }
                tried.Add($"{soname} (system search path)");
                if (NativeLibrary.TryLoad(soname, out var systemHandle)) return Remember(library, soname, systemHandle);
            }
            if (driverMajor is { } limit && sonames.Count < Sonames[library].Length)
                tried.Add($"(majors above the driver's CUDA {limit} left out)");
            throw new NativeLibraryMissingException(library, tried);
        }
    }

    private static nint Remember(string library, string path, nint handle)
    {
        Loaded[library] = handle;
        LoadedPaths[library] = path;
        return handle;
    }

    /// <summary>
    /// libnvrtc dlopens libnvrtc-builtins by soname, and libcublas needs libcublasLt: when loading by absolute path from
    /// a folder the system loader does not search, load those from the same folder first (else NVRTC fails with error 7).
    /// </summary>
    private static void PreloadCompanions(string library, string dir)
    {
        string pattern = library switch
        {
            "nvrtc" => "libnvrtc-builtins.so.*",
            "cublas" => "libcublasLt.so.*",
            _ => "",
        };
        if (pattern.Length == 0) return;
        foreach (var companion in Directory.EnumerateFiles(dir, pattern).OrderByDescending(p => p.Length))
            if (NativeLibrary.TryLoad(companion, out _)) return;
    }

    private static IEnumerable<string> SearchDirectories()
    {
        if (_searchDirectory is not null) yield return _searchDirectory;
        foreach (var variable in new[] { "CUDA_PATH", "CUDA_HOME" })
        {
            var root = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(root))
            {
                yield return Path.Combine(root, "lib64");
                yield return Path.Combine(root, "lib");
            }
        }
        yield return "/usr/local/cuda/lib64";
    }
}

/// <summary>A native library could not be loaded from any place probed; the message lists them all and says what provides it.</summary>
public sealed class NativeLibraryMissingException(string library, IReadOnlyList<string> tried)
    : DllNotFoundException($"lib{library} not found ({Purpose(library)}). Tried: {string.Join(", ", tried)}. {Remedy(library)}")
{
    private static string Purpose(string library) => library switch
    {
        LibMpi.Library => "needed to run as one of several ranks under mpirun",
        LibNccl.Library => "needed for GPU collectives across ranks",
        _ => "needed for CUDA",
    };

    private static string Remedy(string library) => library switch
    {
        LibMpi.Library => "Install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin) or put its libmpi.so.40 on LD_LIBRARY_PATH; MPICH is not supported.",
        LibNccl.Library => "Install NCCL 2 (the CUDA toolkit's libnccl2, or pip's nvidia-nccl-cu12), or point --cuda-lib-dir (or CUDA_PATH) at the folder that holds libnccl.so.2.",
        _ => "Install the CUDA driver/toolkit libraries, or point --cuda-lib-dir (or CUDA_PATH) at the folder that holds them.",
    };

    public string Library { get; } = library;
    public IReadOnlyList<string> Tried { get; } = tried;
}
