// cross_entropy.cu: fused softmax cross-entropy with a per-token weight, forward (per-token loss) and backward
// (softmax − onehot, scaled), never materialising the softmax. CrossEntropyRef is the spec.
//   losses[t]     = logsumexp(logits[t]) − logits[t, target[t]]           (unweighted; the host forms Σ w·loss in fp64)
//   dLogits[t, c] = (exp(logits[t, c] − lse[t]) − [c == target[t]]) · weights[t] · scale
// Legend: R = rows (tokens), V = vocab. T is the storage type of logits / dLogits; math in fp32.
// Launch: one block per row, blockDim a multiple of 32 (block reductions over V = 32000 in one pass each).
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget cross_entropy_*: regs<=32 smem<=256

// max + log Σ exp(x − max) of one row: two passes over the row (max, then the shifted sum), stable for any logits.
template <class T>
__device__ __forceinline__ float row_logsumexp(const T* __restrict__ row, int vocab) {
    const bool vec = vocab % 4 == 0 && is_aligned4(row);
    float m = NEG_INF;
    if (vec) {
        float v[4];
        for (int c = 4 * threadIdx.x; c < vocab; c += 4 * blockDim.x) {
            load4(row + c, v);
            m = fmaxf(fmaxf(m, fmaxf(v[0], v[1])), fmaxf(v[2], v[3]));
        }
    } else {
        for (int c = threadIdx.x; c < vocab; c += blockDim.x) m = fmaxf(m, to_f32(row[c]));
    }
    m = block_reduce_max(m);
    float sum = 0.0f;
    if (vec) {
        float v[4];
        for (int c = 4 * threadIdx.x; c < vocab; c += 4 * blockDim.x) {
            load4(row + c, v);
            sum += expf(v[0] - m) + expf(v[1] - m) + expf(v[2] - m) + expf(v[3] - m);
        }
    } else {
        for (int c = threadIdx.x; c < vocab; c += blockDim.x) sum += expf(to_f32(row[c]) - m);
    }
    return m + logf(block_reduce_sum(sum));
}

template <class T>
__device__ __forceinline__ void cross_entropy_forward(const T* __restrict__ logits,   // [R, V]
                                                      const int* __restrict__ targets, // [R]
                                                      int vocab,
                                                      float* __restrict__ losses) {    // [R]
    const long long r = blockIdx.x;
    const T* row = logits + r * vocab;
    const float lse = row_logsumexp(row, vocab);
    if (threadIdx.x != 0) return;
    const int target = targets[r];
    // A target outside the vocab (the launcher cannot see ids without a copy) gives a NaN loss, never a wild read.
    losses[r] = (target >= 0 && target < vocab) ? lse - to_f32(row[target]) : __int_as_float(0x7fc00000);
}

// dLogits may alias logits: every element is read by the thread that later writes it, and the reductions' barriers
// separate all reads of the row from the first write.
template <class T>
__device__ __forceinline__ void cross_entropy_backward(const T* logits,                 // [R, V]
                                                       const int* __restrict__ targets, // [R]
                                                       const float* __restrict__ weights, // [R]
                                                       int vocab, float scale,
                                                       T* dLogits) {                    // [R, V] overwritten
    const long long r = blockIdx.x;
    const T* row = logits + r * vocab;
    T* drow = dLogits + r * vocab;
    const float w = weights[r] * scale;
    if (w == 0.0f) {   // a masked target (prompt tokens, padding): the whole row's gradient is zero, no exp needed
        for (int c = threadIdx.x; c < vocab; c += blockDim.x) drow[c] = from_f32<T>(0.0f);
        return;
    }
    const float lse = row_logsumexp(row, vocab);
    const int target = targets[r];
    if (vocab % 4 == 0 && is_aligned4(row) && is_aligned4(drow)) {
        float v[4];
        for (int c = 4 * threadIdx.x; c < vocab; c += 4 * blockDim.x) {
            load4(row + c, v);
            for (int e = 0; e < 4; e++) v[e] = expf(v[e] - lse) * w - (c + e == target ? w : 0.0f);
            store4(drow + c, v);
        }
    } else {
        for (int c = threadIdx.x; c < vocab; c += blockDim.x)
            drow[c] = from_f32<T>(expf(to_f32(row[c]) - lse) * w - (c == target ? w : 0.0f));
    }
}

extern "C" __global__ void cross_entropy_forward_f32(const float* logits, const int* targets, int vocab, float* losses) {
    cross_entropy_forward<float>(logits, targets, vocab, losses);
}
extern "C" __global__ void cross_entropy_forward_bf16(const bf16* logits, const int* targets, int vocab, float* losses) {
    cross_entropy_forward<bf16>(logits, targets, vocab, losses);
}
extern "C" __global__ void cross_entropy_backward_f32(const float* logits, const int* targets, const float* weights, int vocab, float scale, float* dLogits) {
    cross_entropy_backward<float>(logits, targets, weights, vocab, scale, dLogits);
}
extern "C" __global__ void cross_entropy_backward_bf16(const bf16* logits, const int* targets, const float* weights, int vocab, float scale, bf16* dLogits) {
    cross_entropy_backward<bf16>(logits, targets, weights, vocab, scale, dLogits);
}
