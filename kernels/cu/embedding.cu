// embedding.cu: token (or learned position) embedding forward (row gather) and backward (row scatter-add).
// Legend: T = tokens, V = vocab, D = dim. T is the storage type of table / y / dY (float or bf16).
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget embedding_backward_*: regs<=32 smem<=0
// budget embedding_forward_*: regs<=24 smem<=0

// y[t, :] = table[tokens[t], :]. One block per token row. A token outside [0, V) yields a NaN row rather than a
// read outside the table, so a bad id shows up in every test instead of as silent garbage.
template <class T>
__device__ __forceinline__ void embedding_forward(const int* __restrict__ tokens,  // [T]
                                                  const T* __restrict__ table,     // [V, D]
                                                  int vocab, int dim,
                                                  T* __restrict__ y) {             // [T, D]
    const long long t = blockIdx.x;
    const int token = tokens[t];
    T* out = y + t * dim;
    if (token < 0 || token >= vocab) {
        for (int d = threadIdx.x; d < dim; d += blockDim.x) out[d] = from_f32<T>(__int_as_float(0x7fc00000));
        return;
    }
    const T* row = table + (long long)token * dim;
    if (dim % 4 == 0 && is_aligned4(row) && is_aligned4(out)) {
        float v[4];
        for (int d = 4 * threadIdx.x; d < dim; d += 4 * blockDim.x) {
            load4(row + d, v);
            store4(out + d, v);
        }
    } else {
        for (int d = threadIdx.x; d < dim; d += blockDim.x) out[d] = row[d];
    }
}

// dTable[tokens[t], :] += dY[t, :], dTable in fp32 (gradients accumulate in fp32 whatever the activations' dtype).
// Deterministic without atomics: blockIdx.y owns the vocabulary rows [v0, v1) and each thread one column d of
// them, so every element of dTable has exactly one writer, which walks the tokens in order and adds the ones that
// fall in its slice: the same additions in the same order as EmbeddingRef, whatever the grid. Every thread reads
// every token id, which a block shares as one broadcast load.
template <class T>
__device__ __forceinline__ void embedding_backward(const int* __restrict__ tokens,  // [T]
                                                   const T* __restrict__ dY,        // [T, D]
                                                   int count, int vocab, int dim,
                                                   float* __restrict__ dTable) {    // [V, D] +=
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= dim) return;
    const int v0 = (int)((long long)blockIdx.y * vocab / gridDim.y);
    const int v1 = (int)((long long)(blockIdx.y + 1) * vocab / gridDim.y);
    for (int t = 0; t < count; t++) {
        const int token = tokens[t];
        if (token < v0 || token >= v1) continue;
        dTable[(long long)token * dim + d] += to_f32(dY[(long long)t * dim + d]);
    }
}

extern "C" __global__ void embedding_forward_f32(const int* tokens, const float* table, int vocab, int dim, float* y) {
    embedding_forward<float>(tokens, table, vocab, dim, y);
}
extern "C" __global__ void embedding_forward_bf16(const int* tokens, const bf16* table, int vocab, int dim, bf16* y) {
    embedding_forward<bf16>(tokens, table, vocab, dim, y);
}
extern "C" __global__ void embedding_backward_f32(const int* tokens, const float* dY, int count, int vocab, int dim, float* dTable) {
    embedding_backward<float>(tokens, dY, count, vocab, dim, dTable);
}
extern "C" __global__ void embedding_backward_bf16(const int* tokens, const bf16* dY, int count, int vocab, int dim, float* dTable) {
    embedding_backward<bf16>(tokens, dY, count, vocab, dim, dTable);
}
