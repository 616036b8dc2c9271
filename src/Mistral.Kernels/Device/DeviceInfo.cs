namespace Mistral.Kernels.Device;

/// <summary>What a device is: printed by `selftest` and used to pick the compile target.</summary>
/// <param name="Name">"NVIDIA H100 80GB HBM3", or "emulated (host CPU)".</param>
/// <param name="ComputeCapability">Major·10 + minor, e.g. 90; the emulator reports 90.</param>
/// <param name="Multiprocessors">SM count (1 for the emulator).</param>
/// <param name="TotalMemoryBytes">Device memory in bytes (host memory for the emulator: 0 = unknown).</param>
/// <param name="MaxSharedMemoryPerBlock">Opt-in dynamic shared memory limit per block, bytes.</param>
/// <param name="DriverVersion">"13.0", or the emulator's host compiler ("g++ 12.2.0").</param>
/// <param name="CompilerVersion">"NVRTC 12.4" for CUDA, "g++ 12.2.0" for the emulator.</param>
public sealed record DeviceInfo(
    string Name, int ComputeCapability, int Multiprocessors, long TotalMemoryBytes, int MaxSharedMemoryPerBlock,
    string DriverVersion, string CompilerVersion);
