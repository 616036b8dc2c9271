namespace Mistral.Kernels.Compile;

/// <summary>
/// What NVRTC compiles for: PTX for a virtual architecture ("compute_90", JIT-compiled by the driver) or a CUBIN
/// for a real one ("sm_90a": Hopper with wgmma/TMA, which PTX for compute_90 cannot use).
/// </summary>
public readonly record struct CompileTarget(string Architecture)
{
    public bool IsCubin => Architecture.StartsWith("sm_", StringComparison.Ordinal);

    public static CompileTarget Ptx(int computeCapability) => new($"compute_{computeCapability}");
    public static CompileTarget Cubin(int computeCapability, bool archSpecific = false) =>
        new($"sm_{computeCapability}{(archSpecific ? "a" : "")}");

    /// <summary>
    /// The target for a GPU of <paramref name="computeCapability"/> given the loaded NVRTC (its version and the
    /// architectures it lists) and the driver (cuDriverGetVersion as major.minor). A pure function, so every
    /// driver/NVRTC pair is a unit test:
    /// <list type="bullet">
    /// <item>an NVRTC of a newer major than the driver is refused (its CUBINs and PTX do not load);</item>
    /// <item>a CUBIN for the device's own architecture when NVRTC lists it: CUBINs load on any driver of the same major
    /// (minor-version compatibility), and sm_90a (wgmma, setmaxnreg) only with NVRTC 12+, as 11.8 lists 90 yet rejects
    /// the "a" target with NVRTC_ERROR_INVALID_OPTION;</item>
    /// <item>else PTX for the newest listed architecture the device can run, which the driver JIT-compiles and so only
    /// accepts from an NVRTC no newer than itself (the PTX ISA version).</item>
    /// </list>
    /// </summary>
    /// <exception cref="ToolchainMismatchException">No combination loads on this driver.</exception>
    public static CompileTarget Choose(int computeCapability, Version nvrtc, IReadOnlyCollection<int> nvrtcArchitectures, Version driver)
    {
        if (nvrtc.Major > driver.Major)
            throw new ToolchainMismatchException($"NVRTC {nvrtc} is newer than the driver's CUDA {driver}: its code would not load. " +
                                                 $"Use an NVRTC {driver.Major}.x (--cuda-lib-dir) or a newer driver");
        if (nvrtcArchitectures.Contains(computeCapability))
            return Cubin(computeCapability, archSpecific: computeCapability == 90 && nvrtc.Major >= 12);
        int best = nvrtcArchitectures.Where(a => a <= computeCapability).DefaultIfEmpty(0).Max();
        if (best == 0)
            throw new ToolchainMismatchException($"NVRTC {nvrtc} supports none of the architectures up to sm_{computeCapability}");
        if (nvrtc > driver)
            throw new ToolchainMismatchException($"NVRTC {nvrtc} does not list sm_{computeCapability}, and its PTX for compute_{best} " +
                                                 $"is newer than the driver's CUDA {driver} can JIT-compile. Use an NVRTC no newer than {driver}");
        return Ptx(best);
    }

    public override string ToString() => Architecture;
}
