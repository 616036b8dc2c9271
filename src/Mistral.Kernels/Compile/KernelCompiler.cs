using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;

namespace Mistral.Kernels.Compile;

/// <summary>
/// Compiles kernels/cu files with NVRTC. Headers are handed over in memory under the names the sources #include
/// ("common/bf16.cuh"); entry points are extern "C", so no name expressions are needed. No GPU is required.
/// </summary>
public sealed unsafe partial class KernelCompiler
{
    /// <summary>Options every compile uses; the target's --gpu-architecture is added per call.</summary>
    public static readonly IReadOnlyList<string> BaseOptions = ["-default-device", "--std=c++17", "-lineinfo"];

    /// <summary>"12.4": the loaded NVRTC's version (loads it; throws <see cref="NativeLibraryMissingException"/> without one).</summary>
    public static string Version() => LoadedVersion().ToString();

    /// <summary>The loaded NVRTC's major.minor (loads it).</summary>
    public static Version LoadedVersion()
    {
        CudaException.Check(LibNvrtc.nvrtcVersion(out int major, out int minor));
        return new Version(major, minor);
    }

    /// <summary>Architectures the loaded NVRTC accepts, as compute capabilities (80, 86, 89, 90, ...).</summary>
    public static IReadOnlyList<int> SupportedArchitectures()
    {
        CudaException.Check(LibNvrtc.nvrtcGetNumSupportedArchs(out int count));
        var archs = new int[count];
        fixed (int* p = archs) CudaException.Check(LibNvrtc.nvrtcGetSupportedArchs(p));
        return archs;
    }

    /// <summary>Compiles <paramref name="file"/> for <paramref name="target"/>; <paramref name="extraOptions"/> follow the base options (e.g. <see cref="KernelResources.ReportOptions"/>).</summary>
    public CompiledKernel Compile(KernelSources sources, KernelFile file, CompileTarget target, IReadOnlyList<string>? extraOptions = null)
    {
        var headers = sources.Headers.OrderBy(h => h.Key, StringComparer.Ordinal).ToArray();
        var strings = new List<nint>();
        try
        {
            byte* Utf8(string s)
            {
                var p = (byte*)Marshal.StringToCoTaskMemUTF8(s);
                strings.Add((nint)p);
                return p;
            }
            byte** headerTexts = stackalloc byte*[Math.Max(1, headers.Length)];
            byte** headerNames = stackalloc byte*[Math.Max(1, headers.Length)];
            for (int i = 0; i < headers.Length; i++)
            {
                headerTexts[i] = Utf8(headers[i].Value);
                headerNames[i] = Utf8(headers[i].Key);
            }
            CudaException.Check(LibNvrtc.nvrtcCreateProgram(out nint raw, Utf8(file.Text), Utf8(file.Name), headers.Length, headerTexts, headerNames));
            using var program = new NvrtcProgramHandle(raw);

            var options = BaseOptions.Append($"--gpu-architecture={target.Architecture}").Concat(extraOptions ?? []).ToArray();
            byte** optionPointers = stackalloc byte*[options.Length];
            for (int i = 0; i < options.Length; i++) optionPointers[i] = Utf8(options[i]);

            var status = LibNvrtc.nvrtcCompileProgram(raw, options.Length, optionPointers);
            var log = ReadLog(raw);
            if (status == NvrtcResult.NVRTC_ERROR_COMPILATION)
                throw new CudaCompileException(file.Name, target.Architecture, ToFileLine(log));
            if (status == NvrtcResult.NVRTC_ERROR_BUILTIN_OPERATION_FAILURE)
                throw new CudaException($"NVRTC could not load its builtins library (libnvrtc-builtins) next to {NativeLibraryLoader.LoadedPath(LibNvrtc.Library)}: {log}");
            if (status == NvrtcResult.NVRTC_ERROR_INVALID_OPTION)
                throw new CudaCompileException(file.Name, target.Architecture, $"NVRTC {Version()} rejected the options {string.Join(' ', options)}: {log}");
            CudaException.Check(status, $"nvrtcCompileProgram({file.Name}, {target})");
            return new CompiledKernel(file.Name, target, target.IsCubin ? ReadCubin(raw) : ReadPtx(raw), log);
        }
        finally
        {
            foreach (var p in strings) Marshal.FreeCoTaskMem(p);
        }
    }

    private static string ReadLog(nint program)
    {
        CudaException.Check(LibNvrtc.nvrtcGetProgramLogSize(program, out nuint size));
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) CudaException.Check(LibNvrtc.nvrtcGetProgramLog(program, p));
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static byte[] ReadPtx(nint program)
    {
        CudaException.Check(LibNvrtc.nvrtcGetPTXSize(program, out nuint size));
        var bytes = new byte[(int)size]; // includes the terminating NUL cuModuleLoadData needs
        fixed (byte* p = bytes) CudaException.Check(LibNvrtc.nvrtcGetPTX(program, p));
        return bytes;
    }

    private static byte[] ReadCubin(nint program)
    {
        CudaException.Check(LibNvrtc.nvrtcGetCUBINSize(program, out nuint size));
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) CudaException.Check(LibNvrtc.nvrtcGetCUBIN(program, p));
        return bytes;
    }

    /// <summary>NVRTC writes "rmsnorm.cu(12): error: ..."; editors and humans want "rmsnorm.cu:12: error: ...".</summary>
    public static string ToFileLine(string log) => NvrtcLocation().Replace(log, m => $"{m.Groups[1].Value}:{m.Groups[2].Value}:");

    [GeneratedRegex(@"^([^\s(]+)\((\d+)\):", RegexOptions.Multiline)]
    private static partial Regex NvrtcLocation();
}
