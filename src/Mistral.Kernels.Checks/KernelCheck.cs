using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// One kernel case: run a launcher on a device and compare every output with the CPU reference fed the same
/// storage-rounded inputs. Used by the xunit kernel tests and by `mistral-cu selftest` (one case list for both).
/// </summary>
/// <param name="Kernel">"rmsnorm_forward" (the kernel family and direction).</param>
/// <param name="Shape">Human-readable shape, e.g. "[17, 4097]".</param>
/// <param name="Run">Runs the case on a scope's device and returns the comparisons.</param>
public sealed record KernelCheck(string Kernel, DType DType, string Shape, Func<DeviceScope, KernelComparison> Run)
{
    /// <summary>Unique within the sweep: "rmsnorm_forward bf16 [17, 4097]".</summary>
    public string Name => $"{Kernel} {DType.ToString().ToLowerInvariant()} {Shape}";

    public override string ToString() => Name;
}
