// emu_bad.cu: deliberately wrong kernels (and two order probes), one per check of kernels/emu/cuda_emu.h, so each
// test proves its check fires. Valid CUDA that a GPU would run with undefined or order-dependent results; compiled
// only by the tests, never embedded in the product.
#include "common/common.cuh"

// Every thread writes the one shared cell before the barrier: the last writer wins, and which is last is up to the GPU.
__device__ void race_on(float* cell, float* out) {
    *cell = (float)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = *cell;
}
extern "C" __global__ void bad_shared_race(float* out) {
    __shared__ float cell;
    race_on(&cell, out);
}

// The same race on a template's static, which g++ places apart from other statics (see cuda_emu.h, __shared__).
template <class T> __device__ T* template_tile() {
    __shared__ T tile[32];
    return tile;
}
extern "C" __global__ void bad_shared_race_templated(float* out) { race_on(template_tile<float>(), out); }

// Lanes 16..31 return, then lanes 0..15 shuffle with a mask that still names them.
extern "C" __global__ void bad_mask_names_exited_lanes(float* out) {
    if (threadIdx.x % WARP_SIZE >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(FULL_MASK, (float)threadIdx.x, 1);
}

// A 16-byte load from an address 4 bytes past a float4 boundary (offset = 1) faults on the GPU.
extern "C" __global__ void bad_misaligned_load(const float* in, int offset, float* out) {
    float v[4];
    load4(in + offset, v);
    out[threadIdx.x] = v[0] + v[1] + v[2] + v[3];
}

// The same, storing.
extern "C" __global__ void bad_misaligned_store(float* out, int offset) {
    const float v[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    store4(out + offset, v);
}

// The two halves of the block meet at different __syncthreads.
extern "C" __global__ void bad_divergent_barriers(float* out) {
    if (threadIdx.x < 32) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 0.0f;
}

// order[b] = how many blocks ran before block b (one thread per block).
extern "C" __global__ void probe_block_order(int* counter, int* order) {
    order[blockIdx.x] = atomicAdd(counter, 1);
}

// Block 0 fills the static shared tile; every other block reads it without writing it, so it sees NaN poison. The
// tile is the kernel's own, a template's or a non-template inline function's: each is a different place to g++.
__device__ void fill_in_block0_then_read(float* tile, float* out) {
    if (blockIdx.x == 0) tile[threadIdx.x] = 1.0f;
    __syncthreads();
    out[blockIdx.x * 32 + threadIdx.x] = tile[threadIdx.x];
}
extern "C" __global__ void probe_static_poison(float* out) {
    __shared__ float tile[32];
    fill_in_block0_then_read(tile, out);
}
extern "C" __global__ void probe_static_poison_templated(float* out) { fill_in_block0_then_read(template_tile<float>(), out); }

__device__ __forceinline__ float* inline_tile() {
    __shared__ float tile[32];
    return tile;
}
extern "C" __global__ void probe_static_poison_inline(float* out) { fill_in_block0_then_read(inline_tile(), out); }
