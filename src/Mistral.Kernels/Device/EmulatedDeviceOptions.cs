namespace Mistral.Kernels.Device;

/// <summary>How the emulated device builds and checks kernels.</summary>
/// <param name="CacheDirectory">Where host-compiled kernel libraries are cached (e.g. ~/.cache/mistral-cu, or a test run's folder).</param>
/// <param name="Compiler">The host C++ compiler.</param>
/// <param name="PoisonAllocations">Fill new allocations with NaN bytes, so reading memory nobody wrote shows up as NaN.</param>
/// <param name="CheckRedZones">Guard every allocation with red zones and check them after each launch, so a kernel
/// writing past either end of a buffer fails naming the kernel.</param>
public sealed record EmulatedDeviceOptions(
    string CacheDirectory, string Compiler = "g++", bool PoisonAllocations = true, bool CheckRedZones = true);
