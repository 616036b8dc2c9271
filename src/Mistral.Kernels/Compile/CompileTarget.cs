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

    public override string ToString() => Architecture;
}
