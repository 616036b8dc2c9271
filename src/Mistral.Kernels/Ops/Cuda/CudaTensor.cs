using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// A tensor of <see cref="CudaOps"/>: <see cref="Tensor.ByteCount"/> bytes of device memory rented from the ops'
/// <see cref="DeviceMemoryPool"/> (the caching allocator); Dispose gives them back to the pool, not to the driver.
/// </summary>
public sealed class CudaTensor : Tensor
{
    private readonly DeviceMemoryPool _pool;
    private DeviceSpan<byte> _memory;

    internal CudaTensor(DeviceMemoryPool pool, DeviceSpan<byte> memory, Shape shape, DType dtype) : base(shape, dtype)
    {
        _pool = pool;
        _memory = memory;
    }

    internal DeviceMemoryPool Pool => _pool;

    /// <summary>The tensor's bytes on the device (256-byte aligned).</summary>
    public DeviceSpan<byte> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.Pointer == 0, this);
            return _memory;
        }
    }

    public ulong Pointer => Memory.Pointer;

    /// <summary>The non-owning view the launchers take.</summary>
    public DeviceTensor View => new(Pointer, Shape, DType);

    public override void Dispose()
    {
        if (_memory.Pointer == 0) return;
        _pool.Return(_memory);
        _memory = default;
    }
}
