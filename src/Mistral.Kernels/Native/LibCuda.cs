using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// The CUDA driver API (libcuda.so.1), native spelling. CUdevice = int, CUdeviceptr = ulong, every other CU* object
/// an nint wrapped by a SafeHandle in Handles/. Resolved through <see cref="NativeLibraryLoader"/>.
/// </summary>
public static unsafe partial class LibCuda
{
    public const string Library = "cuda";

    // CUdevice_attribute values used here (cuda.h).
    public const int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    public const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    public const int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

    public const int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    public const uint CU_STREAM_NON_BLOCKING = 1;
    public const uint CU_EVENT_DEFAULT = 0;
    public const uint CU_EVENT_DISABLE_TIMING = 2;
    /// <summary>CUstreamCaptureMode: only this thread's unsafe calls are prohibited during capture.</summary>
    public const int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    [LibraryImport(Library)] public static partial CuResult cuInit(uint flags);
    [LibraryImport(Library)] public static partial CuResult cuDriverGetVersion(out int driverVersion);
    [LibraryImport(Library)] public static partial CuResult cuGetErrorName(CuResult error, out nint pStr);

    [LibraryImport(Library)] public static partial CuResult cuDeviceGetCount(out int count);
    [LibraryImport(Library)] public static partial CuResult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] public static partial CuResult cuDeviceGetName(byte* name, int len, int dev);
    [LibraryImport(Library)] public static partial CuResult cuDeviceGetAttribute(out int pi, int attrib, int dev);
    [LibraryImport(Library)] public static partial CuResult cuDeviceTotalMem_v2(out nuint bytes, int dev);

    [LibraryImport(Library)] public static partial CuResult cuDevicePrimaryCtxRetain(out nint pctx, int dev);
    [LibraryImport(Library)] public static partial CuResult cuDevicePrimaryCtxRelease_v2(int dev);
    [LibraryImport(Library)] public static partial CuResult cuCtxSetCurrent(nint ctx);
    [LibraryImport(Library)] public static partial CuResult cuCtxSynchronize();
    [LibraryImport(Library)] public static partial CuResult cuMemGetInfo_v2(out nuint free, out nuint total);

    [LibraryImport(Library)] public static partial CuResult cuMemAlloc_v2(out ulong dptr, nuint bytesize);
    [LibraryImport(Library)] public static partial CuResult cuMemFree_v2(ulong dptr);
    [LibraryImport(Library)] public static partial CuResult cuMemHostAlloc(out nint pp, nuint bytesize, uint flags);
    [LibraryImport(Library)] public static partial CuResult cuMemFreeHost(nint p);
    [LibraryImport(Library)] public static partial CuResult cuMemcpyHtoDAsync_v2(ulong dstDevice, void* srcHost, nuint byteCount, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuMemcpyDtoHAsync_v2(void* dstHost, ulong srcDevice, nuint byteCount, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuMemcpyDtoDAsync_v2(ulong dstDevice, ulong srcDevice, nuint byteCount, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuMemsetD8Async(ulong dstDevice, byte uc, nuint n, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuMemsetD32Async(ulong dstDevice, uint ui, nuint n, nint hStream);

    [LibraryImport(Library)] public static partial CuResult cuStreamCreate(out nint phStream, uint flags);
    [LibraryImport(Library)] public static partial CuResult cuStreamDestroy_v2(nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuStreamSynchronize(nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuStreamQuery(nint hStream);

    [LibraryImport(Library)] public static partial CuResult cuEventCreate(out nint phEvent, uint flags);
    [LibraryImport(Library)] public static partial CuResult cuEventDestroy_v2(nint hEvent);
    [LibraryImport(Library)] public static partial CuResult cuEventRecord(nint hEvent, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuEventSynchronize(nint hEvent);
    [LibraryImport(Library)] public static partial CuResult cuEventElapsedTime(out float pMilliseconds, nint hStart, nint hEnd);

    [LibraryImport(Library)] public static partial CuResult cuModuleLoadData(out nint module, void* image);
    [LibraryImport(Library)] public static partial CuResult cuModuleUnload(nint hmod);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial CuResult cuModuleGetFunction(out nint hfunc, nint hmod, string name);
    [LibraryImport(Library)] public static partial CuResult cuFuncSetAttribute(nint hfunc, int attrib, int value);

    [LibraryImport(Library)]
    public static partial CuResult cuLaunchKernel(nint f, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemBytes, nint hStream, void** kernelParams, void** extra);

    [LibraryImport(Library)] public static partial CuResult cuStreamBeginCapture_v2(nint hStream, int mode);
    [LibraryImport(Library)] public static partial CuResult cuStreamEndCapture(nint hStream, out nint phGraph);
    [LibraryImport(Library)] public static partial CuResult cuGraphInstantiateWithFlags(out nint phGraphExec, nint hGraph, ulong flags);
    [LibraryImport(Library)] public static partial CuResult cuGraphLaunch(nint hGraphExec, nint hStream);
    [LibraryImport(Library)] public static partial CuResult cuGraphDestroy(nint hGraph);
    [LibraryImport(Library)] public static partial CuResult cuGraphExecDestroy(nint hGraphExec);

    /// <summary>"CUDA_ERROR_OUT_OF_MEMORY" for a status, as the driver spells it.</summary>
    public static string ErrorName(CuResult status) =>
        cuGetErrorName(status, out var p) == CuResult.CUDA_SUCCESS && p != 0 ? Marshal.PtrToStringUTF8(p) ?? status.ToString() : status.ToString();
}
