using Mistral.Kernels.Native;
using Xunit;

namespace Mistral.Kernels.Tests.Native;

/// <summary>Which library majors the loader may try for a stated driver: never one newer than the driver's CUDA major.</summary>
public sealed class NativeLibraryLoaderTests
{
    [Fact]
    public void CandidateSonames_Driver12_LeavesOutCuda13()
    {
        Assert.Equal(["libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"], NativeLibraryLoader.CandidateSonames(LibNvrtc.Library, 12));
        Assert.Equal(["libcublas.so.12", "libcublas.so.11", "libcublas.so"], NativeLibraryLoader.CandidateSonames(LibCublas.Library, 12));
    }

    [Fact]
    public void CandidateSonames_Driver13_NewestFirst()
    {
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"], NativeLibraryLoader.CandidateSonames(LibNvrtc.Library, 13));
    }

    [Fact]
    public void CandidateSonames_Driver11_OnlyCuda11()
    {
        Assert.Equal(["libcublas.so.11", "libcublas.so"], NativeLibraryLoader.CandidateSonames(LibCublas.Library, 11));
    }

    [Fact]
    public void CandidateSonames_NoDriver_KeepsEveryMajor()
    {
        // A CI machine compiling with NVRTC alone has no libcuda: nothing to be newer than.
        Assert.Equal(4, NativeLibraryLoader.CandidateSonames(LibNvrtc.Library, null).Count);
    }

    [Fact]
    public void CandidateSonames_Driver_NeverFiltersLibcudaItself()
    {
        Assert.Equal(["libcuda.so.1", "libcuda.so"], NativeLibraryLoader.CandidateSonames(LibCuda.Library, 12));
    }
}
