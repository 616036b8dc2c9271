// argmax.cu: greedy decoding, ids[r] = index of the largest logit of row r, the lowest index on ties (torch.argmax,
// ArgmaxRef). Legend: R = rows, V = vocab. T is the storage type.
// Launch: one block per row, blockDim a multiple of 32.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget argmax_forward_*: regs<=24 smem<=256

// (value, index) ordering: larger value wins; on equal values the lower index wins.
__device__ __forceinline__ bool better(float v, int i, float best_v, int best_i) {
    return v > best_v || (v == best_v && i < best_i);
}

template <class T>
__device__ __forceinline__ void argmax_forward(const T* __restrict__ logits,  // [R, V]
                                               int vocab,
                                               int* __restrict__ ids) {       // [R]
    __shared__ float warp_value[WARP_SIZE];
    __shared__ int warp_index[WARP_SIZE];
    const T* row = logits + (long long)blockIdx.x * vocab;
    float best_v = NEG_INF;
    int best_i = vocab;   // "none yet": loses every tie against a real index
    for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
        const float v = to_f32(row[c]);
        if (better(v, c, best_v, best_i)) { best_v = v; best_i = c; }
    }
    for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2) {
        const float v = __shfl_xor_sync(FULL_MASK, best_v, offset);
        const int i = __shfl_xor_sync(FULL_MASK, best_i, offset);
        if (better(v, i, best_v, best_i)) { best_v = v; best_i = i; }
    }
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    if (lane == 0) { warp_value[warp] = best_v; warp_index[warp] = best_i; }
    __syncthreads();
    if (warp == 0) {
        const int warps = blockDim.x / WARP_SIZE;
        best_v = lane < warps ? warp_value[lane] : NEG_INF;
        best_i = lane < warps ? warp_index[lane] : vocab;
        for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2) {
            const float v = __shfl_xor_sync(FULL_MASK, best_v, offset);
            const int i = __shfl_xor_sync(FULL_MASK, best_i, offset);
            if (better(v, i, best_v, best_i)) { best_v = v; best_i = i; }
        }
        // A row of only NaN or -inf never beats the start value: index 0, as the reference's scan returns.
        if (lane == 0) ids[blockIdx.x] = best_i < vocab ? best_i : 0;
    }
}

extern "C" __global__ void argmax_forward_f32(const float* logits, int vocab, int* ids) { argmax_forward<float>(logits, vocab, ids); }
extern "C" __global__ void argmax_forward_bf16(const bf16* logits, int vocab, int* ids) { argmax_forward<bf16>(logits, vocab, ids); }
