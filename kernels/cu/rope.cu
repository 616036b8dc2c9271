// rope.cu: rotary position embedding on interleaved pairs (x[2i], x[2i+1]) of every head, forward and backward.
// Forward rotates pair i of token t by angle = positions[t] · inv_freq[i]; backward by −angle (the rotation is
// orthogonal, so its transpose is its inverse). RopeRef is the spec; rope.py apply_rotary_emb the original.
// inv_freq [Dh/2] comes from the host (RopeKernel builds it with RopeRef.InverseFrequencies), so the angles are the
// reference's bit for bit and only cosf/sinf differ by their few ulp.
// Legend: T = tokens, W = row width = heads · Dh, Dh = head dim. T is the storage type; math in fp32.
// Launch: one thread per pair, T · W/2 threads in 1-D blocks.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// Debt (issue 12): the stack frame is sinf/cosf's slow path for large arguments (a cos/sin table removes it).
// budget rope_*: regs<=24 smem<=0 stack<=32

template <class T, bool Forward>
__device__ __forceinline__ void rope_rotate(const T* __restrict__ x,             // [T, W]
                                            const int* __restrict__ positions,   // [T]
                                            const float* __restrict__ inv_freq,  // [Dh/2]
                                            int tokens, int width, int head_dim,
                                            T* y) {                              // [T, W], may alias x
    const long long pair = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const int pairs_per_row = width / 2;
    if (pair >= (long long)tokens * pairs_per_row) return;
    const long long t = pair / pairs_per_row;
    const int j = (int)(pair % pairs_per_row);   // pair index within the row
    const int i = j % (head_dim / 2);            // pair index within its head
    const float angle = (float)positions[t] * inv_freq[i];
    const float c = cosf(angle);
    const float s = Forward ? sinf(angle) : -sinf(angle);
    const long long base = t * width + 2 * j;
    const float x0 = to_f32(x[base]);
    const float x1 = to_f32(x[base + 1]);   // both read before either is written: y may be x
    y[base] = from_f32<T>(x0 * c - x1 * s);
    y[base + 1] = from_f32<T>(x0 * s + x1 * c);
}

extern "C" __global__ void rope_forward_f32(const float* x, const int* positions, const float* inv_freq, int tokens, int width, int head_dim, float* y) {
    rope_rotate<float, true>(x, positions, inv_freq, tokens, width, head_dim, y);
}
extern "C" __global__ void rope_forward_bf16(const bf16* x, const int* positions, const float* inv_freq, int tokens, int width, int head_dim, bf16* y) {
    rope_rotate<bf16, true>(x, positions, inv_freq, tokens, width, head_dim, y);
}
extern "C" __global__ void rope_backward_f32(const float* dY, const int* positions, const float* inv_freq, int tokens, int width, int head_dim, float* dX) {
    rope_rotate<float, false>(dY, positions, inv_freq, tokens, width, head_dim, dX);
}
extern "C" __global__ void rope_backward_bf16(const bf16* dY, const int* positions, const float* inv_freq, int tokens, int width, int head_dim, bf16* dX) {
    rope_rotate<bf16, false>(dY, positions, inv_freq, tokens, width, head_dim, dX);
}
