// embedding.cu: token embedding forward (row gather) and backward (row scatter-add).
// Legend: T = tokens, V = vocab, D = dim. T is the storage type of table / y / dY (float or bf16).
#include "common/common.cuh"

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
// One block per token row; repeated tokens meet in atomicAdd, so the order of additions (not the set) may vary.
template <class T>
__device__ __forceinline__ void embedding_backward(const int* __restrict__ tokens,  // [T]
                                                   const T* __restrict__ dY,        // [T, D]
                                                   int vocab, int dim,
                                                   float* __restrict__ dTable) {    // [V, D] +=
    const long long t = blockIdx.x;
    const int token = tokens[t];
    if (token < 0 || token >= vocab) return;
    const T* src = dY + t * dim;
    float* dst = dTable + (long long)token * dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) atomicAdd(dst + d, to_f32(src[d]));
}

extern "C" __global__ void embedding_forward_f32(const int* tokens, const float* table, int vocab, int dim, float* y) {
    embedding_forward<float>(tokens, table, vocab, dim, y);
}
extern "C" __global__ void embedding_forward_bf16(const int* tokens, const bf16* table, int vocab, int dim, bf16* y) {
    embedding_forward<bf16>(tokens, table, vocab, dim, y);
}
extern "C" __global__ void embedding_backward_f32(const int* tokens, const float* dY, int vocab, int dim, float* dTable) {
    embedding_backward<float>(tokens, dY, vocab, dim, dTable);
}
extern "C" __global__ void embedding_backward_bf16(const int* tokens, const bf16* dY, int vocab, int dim, float* dTable) {
    embedding_backward<bf16>(tokens, dY, vocab, dim, dTable);
}
