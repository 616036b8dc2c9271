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
    /// first for libcuda/libnvrtc/libcublas, as selftest's --cuda-lib-dir). A fallback from auto to cpu prints one line.
    /// </summary>
    public static IOps OpenOps(ParseResult parse, Option<string> device, Option<string?>? precision = null) =>
        OpenOps(parse, parse.GetValue(device)!, precision is null ? null : parse.GetValue(precision));

    /// <summary>The same for a device and precision decided elsewhere (finetune: the option, else the YAML).</summary>
    public static IOps OpenOps(ParseResult parse, string device, string? precision)
    {
        NativeLibraryLoader.SetSearchDirectory(Environment.GetEnvironmentVariable("MISTRAL_CU_LIB_DIR"));
        var cache = Environment.GetEnvironmentVariable("MISTRAL_CU_CACHE") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mistral-cu");
        var ops = OpsFactory.Create(device, precision, cache, out var note);
        if (note is not null) parse.InvocationConfiguration.Error.WriteLine($"note: {note}");
        return ops;
    }
}
