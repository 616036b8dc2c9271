using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Device addresses of one attention call, all in <see cref="DType"/> storage (F32 or BF16) except Lse (F32).
/// Q, Y [T, H·Dh]; K, V [T, Hkv·Dh]; CacheK, CacheV [rows, Slots, Hkv·Dh] or 0 without a cache; Lse [H, T] or 0.
/// </summary>
public readonly record struct AttentionOperands(
    DType DType, ulong Q, ulong K, ulong V, ulong CacheK, ulong CacheV, int Slots, ulong Y, ulong Lse)
{
    public bool HasCache => CacheK != 0;

    /// <summary>
    /// Checks what every attention kernel assumes beyond the IOps contract (shapes, heads, window: checked by the ops):
    /// a storage type it has, head dims in 16-wide tiles, 16-byte aligned rows, keys and values of a cache together.
    /// </summary>
    public void Validate(string op, AttentionConfig config)
    {
        if (DType is not (DType.F32 or DType.BF16)) throw new ArgumentException($"{op}: storage must be F32 or BF16, not {DType}");
        // Q·Kᵀ runs in 16-wide k-steps; head dim 8 is one step zero-padded (and its rows are still 16-byte multiples).
        if (config.HeadDim != 8 && config.HeadDim % 16 != 0)
            throw new ArgumentException($"{op}: head dim {config.HeadDim} is neither 8 nor a multiple of 16");
        if ((CacheK == 0) != (CacheV == 0)) throw new ArgumentException($"{op}: the cache needs both keys and values");
        foreach (var (name, pointer) in new[] { ("q", Q), ("k", K), ("v", V), ("cache keys", CacheK), ("cache values", CacheV), ("y", Y) })
            if (pointer % 16 != 0) throw new ArgumentException($"{op}: {name} at 0x{pointer:x} is not 16-byte aligned");
    }

    /// <summary>"f32" or "bf16": the dtype part of an entry point's name.</summary>
    public static string Suffix(DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.BF16 => "bf16",
        _ => throw new ArgumentException($"attention kernels store F32 or BF16, not {dtype}"),
    };
}
