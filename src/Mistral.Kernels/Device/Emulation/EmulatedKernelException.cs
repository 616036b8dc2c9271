namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// An emulated kernel failed: a bad launch configuration, a deadlock at a barrier, a write outside its buffers, or
/// a host compile error. The message names the kernel (or the .cu file).
/// </summary>
public sealed class EmulatedKernelException(string message) : Exception(message);
