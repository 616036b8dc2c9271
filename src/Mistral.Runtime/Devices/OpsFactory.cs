using Mistral.Kernels.Compile;
using Mistral.Kernels.Device;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Devices;

/// <summary>
/// Turns --device and --precision into the <see cref="IOps"/> that runs them. Each device is one entry of
/// <see cref="Devices"/>; a device whose hardware or libraries are missing throws <see cref="DeviceUnavailableException"/>
/// from its factory. "auto" is cuda when a GPU answers, else cpu (with a note saying why, for the CLI to print).
/// </summary>
public static class OpsFactory
{
    public const string Auto = "auto";

    /// <summary>Known devices in the order --help lists them, with what each one is.</summary>
    public static IReadOnlyList<(string Name, string Description, Func<DeviceRequest, IOps> Create)> Devices { get; } =
    [
        ("cuda", "the GPU: the project's kernels, cuBLAS GEMMs, bf16 or fp32", CreateCuda),
        ("emu", "the same CUDA kernels emulated on the CPU (slow; for tests)", CreateEmulated),
        ("cpu", "fp32 reference ops in C# (the oracle)", CreateCpu),
    ];

    public static IReadOnlyList<string> Names => Devices.Select(d => d.Name).ToArray();

    /// <summary>
    /// The ops for <paramref name="name"/> (case-insensitive, or "auto"); unknown names and unavailable devices throw
    /// DeviceUnavailableException. <paramref name="precision"/>: "bf16", "fp32" or null for the device's default
    /// (bf16 on cuda/emu, fp32 on cpu). <paramref name="note"/> says why "auto" fell back to the cpu.
    /// </summary>
    public static IOps Create(string name, string? precision, string kernelCacheDirectory, out string? note, int gpuOrdinal = 0)
    {
        note = null;
        var request = new DeviceRequest(precision, kernelCacheDirectory, gpuOrdinal);
        if (string.Equals(name, Auto, StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return CreateCuda(request);
            }
            catch (DeviceUnavailableException e)
            {
                note = $"no GPU found ({e.Brief}); using cpu";
                return CreateCpu(request with { Precision = precision ?? "fp32" });
            }
        }
        foreach (var device in Devices)
            if (string.Equals(device.Name, name, StringComparison.OrdinalIgnoreCase))
                return device.Create(request);
        throw new DeviceUnavailableException(name, $"unknown device (available: {Auto}, {string.Join(", ", Names)})");
    }

    /// <summary>The ops for an explicit device name with its default precision and kernel cache (tests, tools).</summary>
    public static IOps Create(string name, string? precision = null) =>
        Create(name, precision, DefaultKernelCache, out _);

    /// <summary>Used when the caller names none: a folder under the system's temp directory.</summary>
    public static string DefaultKernelCache => Path.Combine(Path.GetTempPath(), "mistral-cu-kernels");

    /// <summary>"bf16" → BF16, "fp32" → F32, null → <paramref name="fallback"/>.</summary>
    public static DType ParsePrecision(string? precision, DType fallback) => precision?.ToLowerInvariant() switch
    {
        null => fallback,
        "bf16" => DType.BF16,
        "fp32" or "f32" => DType.F32,
        _ => throw new ArgumentException($"--precision {precision}: expected bf16 or fp32"),
    };

    private static IOps CreateCpu(DeviceRequest request)
    {
        if (ParsePrecision(request.Precision, DType.F32) != DType.F32)
            throw new DeviceUnavailableException("cpu", "the cpu reference computes in fp32 only; --precision bf16 needs --device cuda or emu");
        return new CpuOps();
    }

    private static IOps CreateCuda(DeviceRequest request)
    {
        var dtype = ParsePrecision(request.Precision, DType.BF16);
        CudaDevice device;
        try
        {
            device = CudaDevice.Open(request.GpuOrdinal, new CudaDeviceOptions(KernelSources.Embedded(), request.KernelCacheDirectory));
        }
        catch (Exception e) when (e is NativeLibraryMissingException or NoCudaDeviceException or CudaException or DllNotFoundException)
        {
            throw new DeviceUnavailableException("cuda", $"no usable GPU ({e.Message})")
            {
                Brief = e is NativeLibraryMissingException missing ? $"lib{missing.Library} not found" : e.Message,
            };
        }
        return new CudaOps(device, dtype, ownsDevice: true);
    }

    private static IOps CreateEmulated(DeviceRequest request)
    {
        var dtype = ParsePrecision(request.Precision, DType.BF16);
        var device = new EmulatedDevice(KernelSources.Embedded(), new EmulatedDeviceOptions(request.KernelCacheDirectory));
        return new CudaOps(device, dtype, ownsDevice: true);
    }
}

/// <summary>
/// What a device factory is asked for: the precision ("bf16", "fp32" or null for its default), where compiled kernels
/// are cached, and which GPU (a data-parallel rank's local rank).
/// </summary>
public sealed record DeviceRequest(string? Precision, string KernelCacheDirectory, int GpuOrdinal = 0);
