using Mistral.Kernels.Native;

namespace Mistral.Kernels.Compile;

/// <summary>The loaded NVRTC cannot produce code this driver and GPU load; the message says which versions and what to change.</summary>
public sealed class ToolchainMismatchException(string message) : CudaException(message);
