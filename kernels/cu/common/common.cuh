// common.cuh: constants, warp/block reductions and the storage helpers every kernel file includes.
// Compiles under NVRTC (no CUDA headers) and under the host emulation (kernels/emu/cuda_emu.h).
#ifndef MISTRAL_COMMON_CUH
#define MISTRAL_COMMON_CUH

#include "common/bf16.cuh"

#define WARP_SIZE 32
#define FULL_MASK 0xffffffffu
#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
// -infinity without math.h (NVRTC has no CUDA headers here).
#define NEG_INF __int_as_float((int)0xff800000u)

// Sum over the 32 lanes of a full warp; every lane gets the total (xor butterfly, so the order of additions is the
// same on every lane and the result is bitwise identical across the warp).
__device__ __forceinline__ float warp_reduce_sum(float v) {
    for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

__device__ __forceinline__ float warp_reduce_max(float v) {
    for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
    return v;
}

// Reduces over a block whose size is a multiple of 32 (at most 1024) with a warp reduction; every thread gets the
// result. Starts with a barrier so consecutive calls may reuse the scratch. identity fills the missing warps' slots.
template <float (*WarpReduce)(float)>
__device__ __forceinline__ float block_reduce(float v, float identity) {
    __shared__ float partial[WARP_SIZE];
    const int lane = threadIdx.x % WARP_SIZE;
    const int warp = threadIdx.x / WARP_SIZE;
    const int warps = blockDim.x / WARP_SIZE;
    v = WarpReduce(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    return WarpReduce(lane < warps ? partial[lane] : identity);
}

__device__ __forceinline__ float block_reduce_sum(float v) { return block_reduce<warp_reduce_sum>(v, 0.0f); }
__device__ __forceinline__ float block_reduce_max(float v) { return block_reduce<warp_reduce_max>(v, NEG_INF); }

// True when p may be read 4 elements at a time (16 bytes for fp32, 8 for bf16).
template <class T>
__device__ __forceinline__ bool is_aligned4(const T* p) {
    return (reinterpret_cast<unsigned long long>(p) % (4 * sizeof(T))) == 0;
}

// fp32 <-> storage, 4 contiguous elements at once; p must satisfy is_aligned4.
__device__ __forceinline__ void load4(const float* p, float out[4]) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
}
__device__ __forceinline__ void load4(const bf16* p, float out[4]) {
    const uint2 v = *reinterpret_cast<const uint2*>(p);
    out[0] = bf16_bits_to_f32(v.x & 0xffffu); out[1] = bf16_bits_to_f32(v.x >> 16);
    out[2] = bf16_bits_to_f32(v.y & 0xffffu); out[3] = bf16_bits_to_f32(v.y >> 16);
}
__device__ __forceinline__ void store4(float* p, const float in[4]) {
    *reinterpret_cast<float4*>(p) = make_float4(in[0], in[1], in[2], in[3]);
}
__device__ __forceinline__ void store4(bf16* p, const float in[4]) {
    uint2 v;
    v.x = (unsigned)f32_to_bf16(in[0]).bits | ((unsigned)f32_to_bf16(in[1]).bits << 16);
    v.y = (unsigned)f32_to_bf16(in[2]).bits | ((unsigned)f32_to_bf16(in[3]).bits << 16);
    *reinterpret_cast<uint2*>(p) = v;
}

// 16 bytes of storage, the widest single load/store (LDG.128/STG.128): 4 fp32 or 8 bf16 elements.
template <class T>
__device__ __forceinline__ bool is_aligned16(const T* p) {
    return (reinterpret_cast<unsigned long long>(p) % 16) == 0;
}
__device__ __forceinline__ void load16(const float* p, float (&out)[4]) { load4(p, out); }
__device__ __forceinline__ void load16(const bf16* p, float (&out)[8]) {
    const uint4 v = *reinterpret_cast<const uint4*>(p);
    const unsigned w[4] = {v.x, v.y, v.z, v.w};
    for (int k = 0; k < 4; k++) {
        out[2 * k] = bf16_bits_to_f32(w[k] & 0xffffu);
        out[2 * k + 1] = bf16_bits_to_f32(w[k] >> 16);
    }
}
__device__ __forceinline__ void store16(float* p, const float (&in)[4]) { store4(p, in); }
__device__ __forceinline__ void store16(bf16* p, const float (&in)[8]) {
    unsigned w[4];
    for (int k = 0; k < 4; k++) w[k] = (unsigned)f32_to_bf16(in[2 * k]).bits | ((unsigned)f32_to_bf16(in[2 * k + 1]).bits << 16);
    *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

// Float atomic max by compare-and-swap (CUDA has no native float atomicMax). NaN is never stored.
__device__ __forceinline__ float atomic_max_float(float* address, float value) {
    int* bits = reinterpret_cast<int*>(address);
    int old = *bits;
    while (__int_as_float(old) < value) {
        const int assumed = old;
        old = atomicCAS(bits, assumed, __float_as_int(value));
        if (old == assumed) break;
    }
    return __int_as_float(old);
}

#endif  // MISTRAL_COMMON_CUH
