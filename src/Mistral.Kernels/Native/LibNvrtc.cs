using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>NVRTC (libnvrtc.so.13/.12/.11.2), native spelling. Resolved through <see cref="NativeLibraryLoader"/>.</summary>
public static unsafe partial class LibNvrtc
{
    public const string Library = "nvrtc";

    [LibraryImport(Library)] public static partial NvrtcResult nvrtcVersion(out int major, out int minor);
    [LibraryImport(Library)] public static partial nint nvrtcGetErrorString(NvrtcResult result);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetNumSupportedArchs(out int numArchs);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetSupportedArchs(int* supportedArchs);

    /// <summary>src, name, headers and includeNames are NUL-terminated UTF-8.</summary>
    [LibraryImport(Library)]
    public static partial NvrtcResult nvrtcCreateProgram(out nint prog, byte* src, byte* name, int numHeaders, byte** headers, byte** includeNames);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcDestroyProgram(ref nint prog);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcCompileProgram(nint prog, int numOptions, byte** options);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetProgramLogSize(nint prog, out nuint logSizeRet);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetProgramLog(nint prog, byte* log);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetPTXSize(nint prog, out nuint ptxSizeRet);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetPTX(nint prog, byte* ptx);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetCUBINSize(nint prog, out nuint cubinSizeRet);
    [LibraryImport(Library)] public static partial NvrtcResult nvrtcGetCUBIN(nint prog, byte* cubin);
}
