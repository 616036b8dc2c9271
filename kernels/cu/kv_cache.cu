// Rolling KV cache append: the last min(length, S) tokens of each sequence's chunk go to slot position % S of the
// sequence's cache row. Keys arrive already rotated (RoPE runs before attention, CONVENTIONS "Rolling KV cache").
// Legend: T = packed tokens, B = sequences, S = cache slots, R = Hkv·Dh elements of one token's k or v row.
// The copy is dtype-blind (rows are moved as 16-byte chunks), so one entry point serves fp32 and bf16 caches.
// Mirrors Mistral.Kernels.Ops.Reference.KvCacheRef (IOps.KvCacheAppend).
#include "common/common.cuh"
#include "attention_common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget kv_cache_append: regs<=24 smem<=0

// Grid (max length, B), block 128: block (i, b) copies token i of sequence b if it is among the last S of the chunk
// (earlier ones would be overwritten within the same call anyway).
// k, v [T, R]; sequences [B]; row_chunks = R · sizeof(element) / 16; slots = S; cache_k, cache_v [rows, S, R].
extern "C" __global__ void kv_cache_append(const void* k, const void* v, const AttentionSequence* sequences, int row_chunks, int slots,
                                           void* cache_k, void* cache_v)
{
    const AttentionSequence seq = sequences[blockIdx.y];
    const int i = blockIdx.x;
    if (i >= seq.length || i < seq.length - slots) return;
    const int slot = (seq.start_position + i) % slots;
    const long long src = (long long)(seq.token_offset + i) * row_chunks;
    const long long dst = ((long long)seq.cache_row * slots + slot) * row_chunks;
    const AttentionChunk16* k_row = static_cast<const AttentionChunk16*>(k) + src;
    const AttentionChunk16* v_row = static_cast<const AttentionChunk16*>(v) + src;
    AttentionChunk16* ck_row = static_cast<AttentionChunk16*>(cache_k) + dst;
    AttentionChunk16* cv_row = static_cast<AttentionChunk16*>(cache_v) + dst;
    for (int c = threadIdx.x; c < row_chunks; c += blockDim.x)
    {
        ck_row[c] = k_row[c];
        cv_row[c] = v_row[c];
    }
}
