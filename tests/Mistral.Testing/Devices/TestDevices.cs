using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Testing.Devices;

/// <summary>
/// The devices kernel tests run on. The emulated device is always there (it needs only g++); the CUDA device only
/// where a driver and a GPU are, otherwise tests skip with the reason. Host-compiled kernels are cached under the
/// repository's tests/.kernel-cache (shared by every test project; builds are locked and renamed atomically), so a
/// test run compiles each kernels/cu file once.
/// The test harness is the top of its process (like the CLI): it alone reads MISTRAL_CU_LIB_DIR, the folder
/// .ci/install-nvrtc unpacked a newer NVRTC into.
/// </summary>
public static class TestDevices
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        NativeLibraryLoader.SetSearchDirectory(Environment.GetEnvironmentVariable("MISTRAL_CU_LIB_DIR"));
        return true;
    });

    public static string CacheDirectory => Path.Combine(Path.GetDirectoryName(Fixtures.Root)!, ".kernel-cache");

    /// <summary>Points the native library loader at MISTRAL_CU_LIB_DIR (idempotent); call before touching NVRTC or CUDA.</summary>
    public static void ConfigureNativeLibraries() => _ = Configured.Value;

    public static EmulatedDevice Emulated(KernelSources? sources = null) =>
        new(sources ?? KernelSources.Embedded(), new EmulatedDeviceOptions(CacheDirectory));

    /// <summary>The emulated device with its kernels built with FMA contraction, as NVRTC builds them.</summary>
    public static EmulatedDevice EmulatedWithFma() =>
        new(KernelSources.Embedded(), new EmulatedDeviceOptions(CacheDirectory, ContractFma: true));

    /// <summary>The emulated device without graph capture: code that would capture and replay runs eagerly.</summary>
    public static EmulatedDevice EmulatedWithoutGraphs() =>
        new(KernelSources.Embedded(), new EmulatedDeviceOptions(CacheDirectory, GraphCapture: false));

    /// <summary>The emulated device's counters build: shared-memory bank conflicts and global sectors per kernel.</summary>
    public static EmulatedDevice EmulatedWithCounters(KernelSources? sources = null) =>
        new(sources ?? KernelSources.Embedded(), new EmulatedDeviceOptions(CacheDirectory, CountMemoryAccesses: true));

    /// <summary>A CUDA device on GPU 0, or null and why not (no driver, no GPU, no NVRTC).</summary>
    public static CudaDevice? TryCuda(out string reason)
    {
        ConfigureNativeLibraries();
        try
        {
            var device = CudaDevice.Open(0, new CudaDeviceOptions(KernelSources.Embedded(), CacheDirectory));
            reason = "";
            return device;
        }
        catch (Exception e) when (e is NativeLibraryMissingException or NoCudaDeviceException or CudaException)
        {
            reason = "no CUDA device: " + e.Message;
            return null;
        }
    }

    /// <summary>fp32 ops for a test run on "cpu" (the reference ops) or "emu" (CudaOps over the emulated device, which it owns).</summary>
    public static IOps Fp32Ops(string device) => device switch
    {
        "cpu" => new CpuOps(),
        "emu" => new CudaOps(Emulated(), DType.F32, ownsDevice: true),
        _ => throw new ArgumentException($"no fp32 test ops for device '{device}' (cpu or emu)"),
    };

    /// <summary>"emu", "emu-eager" (no graph capture) or "cuda" → a device, or a skip (Assert.Skip) naming why CUDA is not available.</summary>
    public static IDevice Open(string kind)
    {
        if (kind == "emu") return Emulated();
        if (kind == "emu-eager") return EmulatedWithoutGraphs();
        var cuda = TryCuda(out var reason);
        if (cuda is null) Xunit.Assert.Skip(reason);
        return cuda!;
    }
}
