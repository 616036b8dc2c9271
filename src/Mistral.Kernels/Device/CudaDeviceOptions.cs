using Mistral.Kernels.Compile;

namespace Mistral.Kernels.Device;

/// <summary>Where a CUDA device gets its kernels and caches their compiled images.</summary>
/// <param name="Sources">Usually <see cref="KernelSources.Embedded"/>; a kernels folder on disk for development.</param>
/// <param name="CacheDirectory">PTX/CUBIN cache (the CLI passes ~/.cache/mistral-cu unless told otherwise).</param>
public sealed record CudaDeviceOptions(KernelSources Sources, string CacheDirectory);
