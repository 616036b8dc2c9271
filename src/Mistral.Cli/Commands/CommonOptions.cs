using System.CommandLine;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>Options several verbs share, built fresh for each command (a System.CommandLine symbol has one parent).</summary>
internal static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = $"Where to run: {OpsFactory.Auto} (cuda when a GPU answers, else cpu), " +
                      string.Join(", ", OpsFactory.Devices.Select(d => $"{d.Name} ({d.Description})")),
        DefaultValueFactory = _ => OpsFactory.Auto,
    };

    /// <summary>
    /// Global option (every verb accepts it): the folder searched first for libcuda, libnvrtc and libcublas. The
    /// no-GPU note points here, so every verb that can run on a device must take it.
    /// </summary>
    public static readonly Option<string?> CudaLibDir = new("--cuda-lib-dir")
    {
        Description = "Folder searched first for libcuda/libnvrtc/libcublas (default: $MISTRAL_CU_LIB_DIR, then CUDA_PATH and the system)",
        Recursive = true,
    };

    /// <summary>--cuda-lib-dir, else $MISTRAL_CU_LIB_DIR: set before the first native call.</summary>
    public static void SetLibraryDirectory(ParseResult parse) =>
        NativeLibraryLoader.SetSearchDirectory(parse.GetValue(CudaLibDir) ?? Environment.GetEnvironmentVariable("MISTRAL_CU_LIB_DIR"));

    public static Option<string?> Precision() => new("--precision")
    {
        Description = "Activation storage on cuda/emu: bf16 (default there) or fp32 (exact parity); the cpu is always fp32",
    };

    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite")
    {
        Description = "Load weights holding NaN or infinity (refused by default: such a model writes garbage)",
    };

    /// <summary>How the verb's model is loaded: strict unless --allow-nonfinite was given.</summary>
    public static ModelLoadOptions LoadOptions(ParseResult parse, Option<bool> allowNonFinite) => new(parse.GetValue(allowNonFinite));

    public static Argument<string> ModelDir() => new("MODEL")
    {
        Description = "Model directory: params.json + consolidated.safetensors|consolidated.00.pth, or config.json + model*.safetensors (HF)",
    };

    /// <summary>
    /// The ops for the parsed --device/--precision. Environment variables are read here, at the top, only:
    /// MISTRAL_CU_CACHE (compiled kernels; default ~/.cache/mistral-cu) and MISTRAL_CU_LIB_DIR (the folder searched
    /// first for libcuda/libnvrtc/libcublas, unless --cuda-lib-dir names one). A fallback from auto prints one short line.
    /// </summary>
    public static IOps OpenOps(ParseResult parse, Option<string> device, Option<string?>? precision = null) =>
        OpenOps(parse, parse.GetValue(device)!, precision is null ? null : parse.GetValue(precision));

    /// <summary>The same for a device and precision decided elsewhere (finetune: the option, else the YAML).</summary>
    public static IOps OpenOps(ParseResult parse, string device, string? precision, int gpuOrdinal = 0)
    {
        SetLibraryDirectory(parse);
        var ops = OpsFactory.Create(device, precision, KernelCache, out var note, gpuOrdinal);
        if (note is not null) Note(parse, note);
        return ops;
    }

    /// <summary>
    /// For verbs that only mean something on the CUDA kernels (bench kernels): --device auto is the GPU when one
    /// answers, else the emulated device, saying so; an explicit --device is taken as given.
    /// </summary>
    public static IOps OpenKernelOps(ParseResult parse, Option<string> device, Option<string?> precision)
    {
        if (!string.Equals(parse.GetValue(device), OpsFactory.Auto, StringComparison.OrdinalIgnoreCase))
            return OpenOps(parse, device, precision);
        SetLibraryDirectory(parse);
        try
        {
            return OpsFactory.Create("cuda", parse.GetValue(precision), KernelCache, out _);
        }
        catch (DeviceUnavailableException e)
        {
            Note(parse, $"no GPU found ({e.Brief}); using the emulated device (a smoke test, not a speed figure)");
            return OpsFactory.Create("emu", parse.GetValue(precision), KernelCache, out _);
        }
    }

    private static string KernelCache => Environment.GetEnvironmentVariable("MISTRAL_CU_CACHE") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mistral-cu");

    private static void Note(ParseResult parse, string note) =>
        parse.InvocationConfiguration.Error.WriteLine($"note: {note} — see --help for --cuda-lib-dir");
}
