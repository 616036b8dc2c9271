using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// A block rented from a <see cref="DeviceMemoryPool"/> for one using scope: the scratch of a launch sequence, given
/// back on Dispose (stream order keeps the next user of the block behind the launches that read it). The default
/// value holds nothing.
/// </summary>
public readonly struct PooledMemory(DeviceMemoryPool? pool, DeviceSpan<byte> memory) : IDisposable
{
    public DeviceSpan<byte> Memory { get; } = memory;

    public void Dispose() => pool?.Return(Memory);
}
