// emu_probe.cu: small kernels that pin down the emulator's CUDA semantics (EmulatorTests). Not product kernels;
// they are also compiled by the real NVRTC (AllKernelsCompileTests), which proves they are valid CUDA.
#include "common/common.cuh"

// out[b*n + t] = in[b*n + (n-1-t)] through static shared memory: needs a working __syncthreads.
extern "C" __global__ void probe_reverse_static(const float* in, float* out) {
    __shared__ float tile[1024];
    const int n = blockDim.x;
    const int base = blockIdx.x * n;
    tile[threadIdx.x] = in[base + threadIdx.x];
    __syncthreads();
    out[base + threadIdx.x] = tile[n - 1 - threadIdx.x];
}

// The same through dynamic shared memory of blockDim.x floats.
extern "C" __global__ void probe_reverse_dynamic(const float* in, float* out) {
    extern __shared__ float tile[];
    const int n = blockDim.x;
    const int base = blockIdx.x * n;
    tile[threadIdx.x] = in[base + threadIdx.x];
    __syncthreads();
    out[base + threadIdx.x] = tile[n - 1 - threadIdx.x];
}

// Per thread t (block of whole warps): out[4t..4t+3] = the four shuffle flavours of in[t].
extern "C" __global__ void probe_shuffles(const float* in, float* out, int src_lane, int delta) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    const float v = in[t];
    out[4 * t + 0] = __shfl_sync(FULL_MASK, v, src_lane);
    out[4 * t + 1] = __shfl_xor_sync(FULL_MASK, v, delta);
    out[4 * t + 2] = __shfl_down_sync(FULL_MASK, v, delta);
    out[4 * t + 3] = __shfl_up_sync(FULL_MASK, v, delta);
}

// Per warp w: votes[3w..3w+2] = ballot, all, any of (in[t] > 0).
extern "C" __global__ void probe_votes(const float* in, unsigned int* votes) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    const int w = t / WARP_SIZE;
    const int p = in[t] > 0.0f;
    const unsigned int ballot = __ballot_sync(FULL_MASK, p);
    const int all = __all_sync(FULL_MASK, p);
    const int any = __any_sync(FULL_MASK, p);
    if (threadIdx.x % WARP_SIZE == 0) {
        votes[3 * w + 0] = ballot;
        votes[3 * w + 1] = (unsigned int)all;
        votes[3 * w + 2] = (unsigned int)any;
    }
}

// sums[b] = sum of in over block b (block_reduce_sum), maxes[b] = max; every thread checks it got the same total.
extern "C" __global__ void probe_block_reduce(const float* in, int n, float* sums, float* maxes, int* disagreements) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const float v = i < n ? in[i] : 0.0f;
    const float s = block_reduce_sum(v);
    const float m = block_reduce_max(i < n ? v : NEG_INF);
    if (threadIdx.x == 0) { sums[blockIdx.x] = s; maxes[blockIdx.x] = m; }
    __syncthreads();
    if (sums[blockIdx.x] != s) atomicAdd(disagreements, 1);
}

// counter += 1 per thread, total += in[i], best = max(in[i]) across the whole grid.
extern "C" __global__ void probe_atomics(const float* in, int n, int* counter, float* total, float* best) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    atomicAdd(counter, 1);
    atomicAdd(total, in[i]);
    atomic_max_float(best, in[i]);
}

// Threads returning early must not hold up the others' barriers (sm_70+ semantics).
extern "C" __global__ void probe_early_exit(float* out, int live) {
    __shared__ float tile[1024];
    if ((int)threadIdx.x >= live) return;
    tile[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = tile[live - 1 - threadIdx.x];
}

// Writes one element past the end of out[n]: the emulator must name this kernel.
extern "C" __global__ void probe_write_past_end(float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f;
}

// Lane 0 waits at __syncthreads while lanes 1..31 wait at __syncwarp for it: a deadlock on any GPU.
extern "C" __global__ void probe_deadlock(float* out) {
    if (threadIdx.x == 0) __syncthreads();
    else __syncwarp();
    out[threadIdx.x] = 0.0f;
}

// coords[t] = the linear (threadIdx, blockIdx) of each thread in a 3-D launch, to check the index arithmetic.
extern "C" __global__ void probe_coordinates(int* coords) {
    const int tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int bid = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    const int threads = blockDim.x * blockDim.y * blockDim.z;
    coords[2 * (bid * threads + tid) + 0] = tid;
    coords[2 * (bid * threads + tid) + 1] = bid;
}
