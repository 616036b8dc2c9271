using System.CommandLine;
using System.Diagnostics;
using Mistral.Cli.Console;
using Mistral.Kernels.Checks;
using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Native;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu selftest [--device emu|cuda] [--counters]`: runs every kernel over the shared case tables (the same sweep
/// as the xunit kernel tests) against the CPU reference and prints one row per case; with --counters (emu only) the
/// kernels run in the emulator's counters build and a table of shared-memory bank conflicts and global sectors per
/// kernel follows. Exit 0 when all pass, 1 when any fails, 2 when the device cannot be opened (no driver, no GPU, no
/// NVRTC, no host compiler).
/// </summary>
internal static class SelftestCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "emu (kernels host-compiled and emulated on the CPU) or cuda (GPU 0)", DefaultValueFactory = _ => "emu" };
        device.AcceptOnlyFromAmong("emu", "cuda");
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Compiled-kernel cache (default: $MISTRAL_CU_CACHE or ~/.cache/mistral-cu)" };
        var kernelsDir = new Option<string?>("--kernels-dir") { Description = "Read kernels from this folder (holding cu/ and emu/) instead of the built-in copy" };
        var filter = new Option<string?>("--filter") { Description = "Only cases whose name contains this text (e.g. rmsnorm, bf16)" };
        var fma = new Option<bool>("--emu-fma") { Description = "emu: build the kernels with FMA contraction (-mfma -ffp-contract=fast), as NVRTC compiles them" };
        var counters = new Option<bool>("--counters") { Description = "emu: count shared-memory bank conflicts and global 32-byte sectors per warp access, and print them per kernel" };
        var command = new Command("selftest", "Run every kernel against the CPU reference over awkward shapes and print a table") { device, cacheDir, kernelsDir, filter, fma, counters };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            CommonOptions.SetLibraryDirectory(parse);
            var cache = parse.GetValue(cacheDir) ?? Environment.GetEnvironmentVariable("MISTRAL_CU_CACHE")
                        ?? KernelCache.DefaultDirectory(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
            var sources = parse.GetValue(kernelsDir) is { } dir ? KernelSources.FromDirectory(dir) : KernelSources.Embedded();
            var count = parse.GetValue(counters);
            if (count && parse.GetValue(device) == "cuda")
                throw new ArgumentException("--counters needs --device emu: the counts come from the emulator's instrumented build");
            using IDevice d = parse.GetValue(device) == "cuda"
                ? CudaDevice.Open(0, new CudaDeviceOptions(sources, cache))
                : new EmulatedDevice(sources, new EmulatedDeviceOptions(cache, ContractFma: parse.GetValue(fma), CountMemoryAccesses: count));
            var checks = KernelChecks.All().Where(c => parse.GetValue(filter) is not { } f || c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)).ToList();
            var exit = Run(d, checks, parse.InvocationConfiguration.Output);
            if (d is EmulatedDevice { Counters: { } seen }) MemoryCountersTable.Print(seen, parse.InvocationConfiguration.Output);
            return exit;
        }));
        return command;
    }

    private static int Run(IDevice device, IReadOnlyList<KernelCheck> checks, TextWriter o)
    {
        PrintDevice(device, o);
        o.WriteLine();
        o.WriteLine($"{"kernel",-26} {"dtype",-5} {"shape",-28} {"max abs err",12} {"max rel err",12}  result");
        var clock = Stopwatch.StartNew();
        int failed = 0;
        foreach (var check in checks)
        {
            string? failure;
            double abs = double.NaN, rel = double.NaN;
            try
            {
                using var scope = new DeviceScope(device);
                var result = check.Run(scope);
                (abs, rel, failure) = (result.MaxAbsError, result.MaxRelError, result.Failure());
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e.Message; // a kernel that throws (bad launch, out-of-bounds write) is a failed case, not the end of the sweep
            }
            if (failure is not null) failed++;
            o.WriteLine($"{check.Kernel,-26} {check.DType.ToString().ToLowerInvariant(),-5} {check.Shape,-28} {abs,12:0.00e+00} {rel,12:0.00e+00}  {(failure is null ? "PASS" : "FAIL")}");
            if (failure is not null)
                foreach (var line in failure.Split('\n')) o.WriteLine($"    {line}");
        }
        o.WriteLine();
        o.WriteLine($"{checks.Count - failed} passed, {failed} failed, {checks.Count} cases on {device.Name} in {clock.Elapsed.TotalSeconds:F1} s");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private static void PrintDevice(IDevice device, TextWriter o)
    {
        var info = device.Info;
        o.WriteLine($"device       {device.Name}: {info.Name}");
        foreach (var (label, text) in device.Details) o.WriteLine($"{label,-12} {text}");
    }
}
