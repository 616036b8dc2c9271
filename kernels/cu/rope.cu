// rope.cu: rotary position embedding on interleaved pairs (x[2i], x[2i+1]) of every head, forward and backward.
// Forward rotates pair i of token t by angle = positions[t] · inv_freq[i]; backward by −angle (the rotation is
// orthogonal, so its transpose is its inverse). RopeRef is the spec; rope.py apply_rotary_emb the original.
// inv_freq [Dh/2] comes from the host (RopeKernel builds it with RopeRef.InverseFrequencies), so the fp32 angles are
// the reference's bit for bit. The cos/sin table of a token is computed once per launch, in double from that fp32
// angle and rounded to fp32 (RopeRef.CosSin does the same): every head of the token then reads it from shared memory,
// instead of heads × accurate sinf/cosf (with their slow-path stack frame) per token. Rounding a double cos/sin
// whose error is a few double ulps gives the correctly rounded fp32 value except within ~2^-28 of a rounding tie, so
// the table equals the host's except in such (unseen) ties; on the emulator both call the same libm: bit-identical.
// Legend: T = tokens, W = row width = heads · Dh, Dh = head dim. T is the storage type; math in fp32.
// Launch: one block per token (blockDim a multiple of 32, ≤ 256), threads stride over the row's W/2 pairs with 32-bit
// indices (the row's base pointer is formed once in 64 bits).
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// The 48-byte stack frame is double sin/cos's slow argument reduction (huge angles), reserved in the table prologue;
// the rotation loop touches no stack and no transcendental.
// budget rope_*: regs<=40 smem<=1024 stack<=48

// The largest head dim a launch may have: the table of one token holds Dh/2 (cos, sin) pairs.
#define ROPE_MAX_HEAD_DIM 256

// A pair (p[0], p[1]) as one access: 8 bytes of fp32 or one 32-bit word of two bf16; p must satisfy is_aligned_pair.
template <class T>
__device__ __forceinline__ bool is_aligned_pair(const T* p) {
    return (reinterpret_cast<unsigned long long>(p) % (2 * sizeof(T))) == 0;
}
__device__ __forceinline__ float2 load_pair(const float* p) { return *reinterpret_cast<const float2*>(p); }
__device__ __forceinline__ float2 load_pair(const bf16* p) {
    const unsigned w = *reinterpret_cast<const unsigned*>(p);
    return make_float2(bf16_bits_to_f32(w & 0xffffu), bf16_bits_to_f32(w >> 16));
}
__device__ __forceinline__ void store_pair(float* p, float2 v) { *reinterpret_cast<float2*>(p) = v; }
__device__ __forceinline__ void store_pair(bf16* p, float2 v) {
    *reinterpret_cast<unsigned*>(p) = (unsigned)f32_to_bf16(v.x).bits | ((unsigned)f32_to_bf16(v.y).bits << 16);
}

template <class T, bool Forward>
__device__ __forceinline__ void rope_rotate(const T* __restrict__ x,             // [T, W]
                                            const int* __restrict__ positions,   // [T]
                                            const float* __restrict__ inv_freq,  // [Dh/2]
                                            int width, int head_dim,
                                            T* y) {                              // [T, W], may alias x
    __shared__ float2 table[ROPE_MAX_HEAD_DIM / 2];   // (cos, ±sin) of pair i of this token
    const int half = head_dim >> 1;
    const float position = (float)positions[blockIdx.x];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const double angle = (double)(position * inv_freq[i]);   // the fp32 angle of torch.outer(t, freqs)
        const float s = (float)sin(angle);
        table[i] = make_float2((float)cos(angle), Forward ? s : -s);
    }
    __syncthreads();
    const long long row = (long long)blockIdx.x * width;
    const T* xr = x + row;
    T* yr = y + row;
    const int pairs = width >> 1;
    if (is_aligned_pair(xr) && is_aligned_pair(yr)) {
        // W is even, so every pair starts at an even element: one 8-byte (fp32) or 4-byte (bf16) access per pair,
        // and a warp's request covers whole sectors.
        for (int j = threadIdx.x; j < pairs; j += blockDim.x) {
            const float2 cs = table[j % half];
            const float2 v = load_pair(xr + 2 * j);   // read before written: y may be x
            store_pair(yr + 2 * j, make_float2(v.x * cs.x - v.y * cs.y, v.x * cs.y + v.y * cs.x));
        }
        return;
    }
    for (int j = threadIdx.x; j < pairs; j += blockDim.x) {   // a base pointer off the pair boundary: element-wise
        const float2 cs = table[j % half];
        const float x0 = to_f32(xr[2 * j]);
        const float x1 = to_f32(xr[2 * j + 1]);   // both read before either is written: y may be x
        yr[2 * j] = from_f32<T>(x0 * cs.x - x1 * cs.y);
        yr[2 * j + 1] = from_f32<T>(x0 * cs.y + x1 * cs.x);
    }
}

extern "C" __global__ void rope_forward_f32(const float* x, const int* positions, const float* inv_freq, int width, int head_dim, float* y) {
    rope_rotate<float, true>(x, positions, inv_freq, width, head_dim, y);
}
extern "C" __global__ void rope_forward_bf16(const bf16* x, const int* positions, const float* inv_freq, int width, int head_dim, bf16* y) {
    rope_rotate<bf16, true>(x, positions, inv_freq, width, head_dim, y);
}
extern "C" __global__ void rope_backward_f32(const float* dY, const int* positions, const float* inv_freq, int width, int head_dim, float* dX) {
    rope_rotate<float, false>(dY, positions, inv_freq, width, head_dim, dX);
}
extern "C" __global__ void rope_backward_bf16(const bf16* dY, const int* positions, const float* inv_freq, int width, int head_dim, bf16* dX) {
    rope_rotate<bf16, false>(dY, positions, inv_freq, width, head_dim, dX);
}
