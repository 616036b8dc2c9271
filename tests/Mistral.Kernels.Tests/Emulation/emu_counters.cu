// emu_counters.cu: one-warp kernels with memory-access patterns whose shared-memory bank conflicts and global 32-byte
// sectors are known by hand (EmulatorCountersTests states each figure and why). Compiled only by the tests.
#include "common/common.cuh"

// Global: lane t reads x[stride * t] and writes y[t].
extern "C" __global__ void counters_global_stride_f32(const float* x, int stride, float* y) {
    y[threadIdx.x] = x[stride * threadIdx.x];
}

// Global: every lane reads the same float.
extern "C" __global__ void counters_global_broadcast_f32(const float* x, float* y) {
    y[threadIdx.x] = x[0];
}

// Global: one float4 (16 bytes) per lane, stride 1.
extern "C" __global__ void counters_global_float4(const float4* x, float4* y) {
    y[threadIdx.x] = x[threadIdx.x];
}

// Global: one bf16 (2 bytes) per lane, stride 1.
extern "C" __global__ void counters_global_bf16(const bf16* x, bf16* y) {
    y[threadIdx.x] = x[threadIdx.x];
}

// Global: a block-stride loop over n floats (lanes whose last trip falls past n sit out of it).
extern "C" __global__ void counters_global_loop_f32(const float* x, int n, float* y) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) y[i] = x[i];
}

// Shared: lane t writes then reads word stride * t of a 32×33-word tile.
extern "C" __global__ void counters_shared_stride_f32(int stride, float* y) {
    __shared__ float tile[32 * 33];
    tile[stride * threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    y[threadIdx.x] = tile[stride * threadIdx.x];
}

// Shared: lane 0 writes one word, every lane reads it (a broadcast). The word is a parameter: g++ leaves an access at
// a constant offset into a static __shared__ variable uninstrumented (it is provably in bounds), so the counters
// never see one; such an access has one address for the whole warp and cannot conflict.
extern "C" __global__ void counters_shared_broadcast_f32(int word, float* y) {
    __shared__ float cells[32];
    if (threadIdx.x == 0) cells[word] = 1.0f;
    __syncthreads();
    y[threadIdx.x] = cells[word];
}

// Shared: lane t writes and reads float4 number stride * t.
extern "C" __global__ void counters_shared_stride_float4(int stride, float4* y) {
    __shared__ float4 tile[64];
    tile[stride * threadIdx.x] = make_float4(1.0f, 2.0f, 3.0f, (float)threadIdx.x);
    __syncthreads();
    y[threadIdx.x] = tile[stride * threadIdx.x];
}

// Shared: lane t writes and reads float2 number t (8 bytes per lane).
extern "C" __global__ void counters_shared_float2(float2* y) {
    __shared__ float2 tile[32];
    tile[threadIdx.x] = make_float2(1.0f, (float)threadIdx.x);
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x];
}
