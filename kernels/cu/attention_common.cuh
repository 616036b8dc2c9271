// Shared by attention.cu, attention_decode.cu and kv_cache.cu: the per-sequence metadata of a ragged batch and the
// visibility rule, so that the three kernels cannot disagree about which key a query sees.
// Legend: T = packed tokens, B = sequences, H = query heads, Hkv = kv heads, Dh = head dim, W = window, S = cache slots.
#pragma once

// One entry per sequence of the batch, uploaded as a small device buffer ([B] of these, int32 each). Mirrors
// Mistral.Kernels.Ops.AttentionBatch: tokens [token_offset, token_offset + length) of the packed activations, the first
// at absolute position start_position, reading and writing row cache_row of the rolling cache.
struct AttentionSequence
{
    int token_offset;
    int length;
    int start_position;
    int cache_row;
};

// 16 bytes moved at once (8 bf16 or 4 floats); every row the kernels move is a multiple of 16 bytes (Dh % 16 == 0).
struct __align__(16) AttentionChunk16
{
    unsigned int w[4];
};

#define ATTENTION_LOG2E 1.4426950408889634f
#define ATTENTION_LN2 0.6931471805599453f

// A query at position qpos sees the key at position kpos iff qpos - W < kpos <= qpos (W keys including itself).
// Written as a difference so that W = INT_MAX (plain causal) cannot overflow.
__device__ __forceinline__ bool attention_key_visible(int qpos, int kpos, int window)
{
    return kpos <= qpos && qpos - kpos < window;
}

// The oldest position a sequence can read before its chunk: what the rolling cache still holds (S slots), or
// nothing without a cache. Together with the window this bounds every key range below.
__device__ __forceinline__ int attention_oldest_cached(int start_position, int slots, bool has_cache)
{
    return has_cache ? max(0, start_position - slots) : start_position;
}

// Where the key/value row of absolute position kpos lives: the cache slot kpos % S of the sequence's row for positions
// before the chunk, the chunk's own packed k/v otherwise. Returns the element offset of the row's kv_head slice.
__device__ __forceinline__ long long attention_kv_row_offset(const AttentionSequence& seq, int kpos, int slots, int kv_stride, int kv_head, int head_dim, bool& from_cache)
{
    from_cache = kpos < seq.start_position;
    long long row = from_cache
        ? (long long)seq.cache_row * slots + kpos % slots
        : (long long)seq.token_offset + (kpos - seq.start_position);
    return row * kv_stride + (long long)kv_head * head_dim;
}
