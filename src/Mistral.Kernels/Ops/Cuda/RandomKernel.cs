using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launcher of kernels/cu/random.cu: fills a device buffer with uniform values in [low, high) from (seed, index)
/// alone, so synthetic weights are made on the device without a host copy and are the same on every device.
/// </summary>
public static class RandomKernel
{
    public const int ThreadsPerBlock = 256;
    private const int MaxBlocks = 4096;

    public static void Uniform(IDevice device, ulong y, long count, DType dtype, ulong seed, float low, float high)
    {
        if (count == 0) return;
        string entry = dtype switch
        {
            DType.F32 => "random_uniform_f32",
            DType.BF16 => "random_uniform_bf16",
            _ => throw new ArgumentException($"random fill: F32 or BF16, not {dtype}"),
        };
        var args = new KernelArgs();
        args.Add(count);
        args.Add(seed);
        args.Add(low);
        args.Add(high);
        args.Add(y);
        device.Launch(entry, (int)Math.Min(MaxBlocks, (count + ThreadsPerBlock - 1) / ThreadsPerBlock), ThreadsPerBlock, 0, args);
    }
}
