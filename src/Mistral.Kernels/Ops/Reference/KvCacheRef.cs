namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Writes a chunk's keys and values into the rolling cache: position p lives in slot p % S, and only the last
/// min(length, S) tokens of each sequence's chunk are written (cache.py: the earlier ones would be overwritten anyway).
/// Legend: T = packed tokens, Hkv = kv heads, Dh = head dim, S = slots.
/// </summary>
public static class KvCacheRef
{
    public static void Append(
        ReadOnlySpan<float> k,      // [T, Hkv·Dh] rotated keys of the chunk
        ReadOnlySpan<float> v,      // [T, Hkv·Dh]
        AttentionBatch batch,
        int kvWidth,                // Hkv·Dh
        int slots,
        Span<float> cacheKeys,      // [rows, S, Hkv·Dh]
        Span<float> cacheValues)    // [rows, S, Hkv·Dh]
    {
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int length = batch.Lengths[b];
            int firstWritten = length - Math.Min(length, slots);
            for (int t = firstWritten; t < length; t++)
            {
                int token = batch.TokenOffsets[b] + t;
                int slot = (batch.StartPositions[b] + t) % slots;
                int at = (batch.CacheRows[b] * slots + slot) * kvWidth;
                k.Slice(token * kvWidth, kvWidth).CopyTo(cacheKeys.Slice(at, kvWidth));
                v.Slice(token * kvWidth, kvWidth).CopyTo(cacheValues.Slice(at, kvWidth));
            }
        }
    }
}
