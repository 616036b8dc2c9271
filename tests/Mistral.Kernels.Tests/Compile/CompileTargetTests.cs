using Mistral.Kernels.Compile;
using Xunit;

namespace Mistral.Kernels.Tests.Compile;

/// <summary>
/// The compile target picked for stated GPU / NVRTC / driver combinations. The architecture lists are what those
/// NVRTC releases report (nvrtcGetSupportedArchs; 11.8 and 12.4 read from the Debian builds .ci/install-nvrtc
/// installs; 13.0 per its release notes, which drop everything before sm_75).
/// </summary>
public sealed class CompileTargetTests
{
    private static readonly int[] Nvrtc118 = [35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90];
    private static readonly int[] Nvrtc124 = [50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90];
    private static readonly int[] Nvrtc130 = [75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121];

    public static TheoryData<int, string, int[], string, string> Pairs() => new()
    {
        // Hopper: sm_90a only where NVRTC accepts it (12+); 11.8 lists 90 but rejects the "a" target.
        { 90, "12.4", Nvrtc124, "12.4", "sm_90a" },
        { 90, "12.4", Nvrtc124, "12.8", "sm_90a" },   // a CUBIN loads on any driver of its major
        { 90, "12.4", Nvrtc124, "12.2", "sm_90a" },   // including an older minor (minor-version compatibility)
        { 90, "11.8", Nvrtc118, "12.4", "sm_90" },
        { 90, "11.8", Nvrtc118, "11.8", "sm_90" },
        { 90, "13.0", Nvrtc130, "13.0", "sm_90a" },
        // Ampere and Ada get their own CUBIN.
        { 80, "12.4", Nvrtc124, "12.4", "sm_80" },
        { 89, "11.8", Nvrtc118, "12.2", "sm_89" },
        // Blackwell with an NVRTC that predates it: PTX for the newest listed architecture, JIT-compiled by a newer driver.
        { 100, "12.4", Nvrtc124, "12.8", "compute_90" },
        { 120, "12.4", Nvrtc124, "13.0", "compute_90" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Choose_StatedDriverAndNvrtc_PicksTarget(int computeCapability, string nvrtc, int[] architectures, string driver, string expected)
    {
        var target = CompileTarget.Choose(computeCapability, Version.Parse(nvrtc), architectures, Version.Parse(driver));
        Assert.Equal(expected, target.Architecture);
    }

    [Fact]
    public void Choose_NvrtcMajorNewerThanDriver_RefusesNamingBoth()
    {
        var e = Assert.Throws<ToolchainMismatchException>(() =>
            CompileTarget.Choose(90, new Version(13, 0), Nvrtc130, new Version(12, 4)));
        Assert.Contains("NVRTC 13.0", e.Message);
        Assert.Contains("CUDA 12.4", e.Message);
    }

    [Fact]
    public void Choose_PtxFromNvrtcNewerThanDriverMinor_Refuses()
    {
        // compute_90 PTX from 12.4 carries PTX ISA 8.4, which a 12.2 driver cannot JIT-compile.
        var e = Assert.Throws<ToolchainMismatchException>(() =>
            CompileTarget.Choose(100, new Version(12, 4), Nvrtc124, new Version(12, 2)));
        Assert.Contains("compute_90", e.Message);
    }

    [Fact]
    public void Choose_NoArchitectureUpToDevice_Refuses()
    {
        var e = Assert.Throws<ToolchainMismatchException>(() =>
            CompileTarget.Choose(70, new Version(13, 0), Nvrtc130, new Version(13, 0)));
        Assert.Contains("sm_70", e.Message);
    }
}
