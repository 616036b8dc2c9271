using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launcher of kernels/cu/kv_cache.cu: writes the last min(length, Slots) tokens of each sequence's chunk into slot
/// position % Slots of its cache row (<see cref="IOps.KvCacheAppend"/>, whose shapes the ops check). Rows move as
/// 16-byte chunks, any dtype: what this launcher checks is the alignment that needs.
/// </summary>
public static class KvCacheKernel
{
    public const int ThreadsPerBlock = 128;

    /// <param name="k">Rotated keys [T, rowElements].</param>
    /// <param name="v">Values [T, rowElements].</param>
    /// <param name="cacheK">[rows, slots, rowElements].</param>
    /// <param name="cacheV">[rows, slots, rowElements].</param>
    public static void Append(IDevice device, ulong k, ulong v, AttentionSequences sequences, int rowElements, DType dtype, int slots,
        ulong cacheK, ulong cacheV)
    {
        long rowBytes = (long)rowElements * dtype.SizeOf();
        if (rowBytes % 16 != 0) throw new ArgumentException($"kv cache append: a row of {rowBytes} bytes is not a multiple of 16");
        foreach (var (name, pointer) in new[] { ("k", k), ("v", v), ("cache keys", cacheK), ("cache values", cacheV) })
            if (pointer % 16 != 0) throw new ArgumentException($"kv cache append: {name} at 0x{pointer:x} is not 16-byte aligned");
        if (sequences.MaxLength == 0) return;

        var args = new KernelArgs();
        args.Add(k);
        args.Add(v);
        args.Add(sequences.Table);
        args.Add(checked((int)(rowBytes / 16)));
        args.Add(slots);
        args.Add(cacheK);
        args.Add(cacheV);
        device.Launch("kv_cache_append", new Dim3((uint)sequences.MaxLength, (uint)sequences.Count), ThreadsPerBlock, 0, args);
    }
}
