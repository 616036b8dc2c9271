// adamw.cu: the optimizer step and the squared gradient norm it is clipped by. AdamWRef is the spec (torch 1.13
// _single_tensor_adamw); the host forms the scalar factors in fp64 exactly as AdamWRef does and passes them as fp32,
// so the kernel does only the per-element fp32 arithmetic. Every product and sum is written with the _rn intrinsics:
// they forbid the compiler's a·b + c → fma contraction, so each element is bit-identical to the reference (and a
// resumed run to an uninterrupted one) on the GPU and on the emulator alike.
// Legend: N = elements of one parameter tensor. The _chunks kernels take every trained tensor in one launch.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget adamw_sum_of_squares_partials_*: regs<=32 smem<=128
// budget adamw_sum_of_squares_chunks_f32: regs<=24 smem<=256
// budget adamw_step_f32: regs<=24 smem<=0
// budget adamw_step_chunks_f32: regs<=40 smem<=0

// g = grad · grad_scale; p ·= decay; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p −= step_size · m / (sqrt(v) / sqrt(1 − β2^t) + eps). One element; param, m, v fp32 in place.
__device__ __forceinline__ void adamw_element(float* __restrict__ param, const float* __restrict__ grad,
                                              float* __restrict__ m, float* __restrict__ v, int i,
                                              float grad_scale, float decay, float beta1, float beta2,
                                              float one_minus_beta1, float one_minus_beta2,
                                              float step_size, float bias_correction2_sqrt, float eps) {
    const float g = __fmul_rn(grad[i], grad_scale);
    const float p = __fmul_rn(param[i], decay);
    const float mi = __fadd_rn(__fmul_rn(m[i], beta1), __fmul_rn(one_minus_beta1, g));
    const float vi = __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(one_minus_beta2, g), g));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bias_correction2_sqrt), eps);
    m[i] = mi;
    v[i] = vi;
    param[i] = __fsub_rn(p, __fdiv_rn(__fmul_rn(step_size, mi), denom));
}

// One tensor, one thread per element.
extern "C" __global__ void adamw_step_f32(float* __restrict__ param,        // [N] updated
                                          const float* __restrict__ grad,   // [N]
                                          float* __restrict__ m,            // [N] first moment, updated
                                          float* __restrict__ v,            // [N] second moment, updated
                                          long long n,
                                          float grad_scale, float decay, float beta1, float beta2,
                                          float one_minus_beta1, float one_minus_beta2,
                                          float step_size, float bias_correction2_sqrt, float eps) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    adamw_element(param + i, grad + i, m + i, v + i, 0, grad_scale, decay, beta1, beta2, one_minus_beta1, one_minus_beta2,
                  step_size, bias_correction2_sqrt, eps);
}

// A piece of one tensor for the multi-tensor launches (AdamWKernel.Chunk): addresses of its first element, its
// length (≤ AdamWKernel.ChunkElements) and that tensor's decay factor 1 − lr·wd (weight decay is per tensor).
struct AdamWChunk {
    unsigned long long param, grad, m, v;
    int count;
    float decay;
};

// Every trained tensor in one launch: block b updates chunk b, its threads striding over the chunk. The element
// math is adamw_element's, so each element is bit-identical to the one-tensor kernel and to AdamWRef.
extern "C" __global__ void adamw_step_chunks_f32(const AdamWChunk* __restrict__ chunks,  // [gridDim.x]
                                                 float grad_scale, float beta1, float beta2,
                                                 float one_minus_beta1, float one_minus_beta2,
                                                 float step_size, float bias_correction2_sqrt, float eps) {
    const AdamWChunk c = chunks[blockIdx.x];
    float* param = reinterpret_cast<float*>(c.param);
    const float* grad = reinterpret_cast<const float*>(c.grad);
    float* m = reinterpret_cast<float*>(c.m);
    float* v = reinterpret_cast<float*>(c.v);
    for (int i = threadIdx.x; i < c.count; i += blockDim.x)
        adamw_element(param, grad, m, v, i, grad_scale, c.decay, beta1, beta2, one_minus_beta1, one_minus_beta2, step_size,
                      bias_correction2_sqrt, eps);
}

// Σ x² of one tensor in two deterministic stages: each block writes the fp32 sum of its grid-stride share to
// partials[blockIdx.x] (a fixed tree: thread sums in index order, then the block reduction), and the host adds the
// gridDim.x partials in fp64 in block order. The grid depends only on N, so the same tensor always gives the same
// bits: no float atomics, whose order would change run to run and break bit-exact resume.
template <class T>
__device__ __forceinline__ void sum_of_squares_partials(const T* __restrict__ x,        // [N]
                                                        long long n,
                                                        float* __restrict__ partials) { // [gridDim.x]
    float sum = 0.0f;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float e = to_f32(x[i]);
        sum = __fadd_rn(sum, __fmul_rn(e, e));
    }
    sum = block_reduce_sum(sum);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

extern "C" __global__ void adamw_sum_of_squares_partials_f32(const float* x, long long n, float* partials) {
    sum_of_squares_partials<float>(x, n, partials);
}
extern "C" __global__ void adamw_sum_of_squares_partials_bf16(const bf16* x, long long n, float* partials) {
    sum_of_squares_partials<bf16>(x, n, partials);
}

// Σ x² over many fp32 tensors (the global gradient norm) in one launch, accumulated in fp64 as the reference does:
// the square of an fp32 value is exact in fp64, so the only roundings are fp64 additions. Block b sums chunk b
// (AdamWKernel.Chunk, a piece of one tensor: param is its address, count its length) in a fixed tree — threads in
// index order, then the warp butterflies and the warps in order — into partials[b]; the host downloads the partials
// once and adds them in chunk order. Chunks depend only on the tensors' sizes: the same gradients give the same bits.
__device__ __forceinline__ double warp_reduce_sum_f64(double v) {
    for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

extern "C" __global__ void adamw_sum_of_squares_chunks_f32(const AdamWChunk* __restrict__ chunks,  // [gridDim.x]
                                                           double* __restrict__ partials) {        // [gridDim.x]
    __shared__ double warp_sums[WARP_SIZE];
    const AdamWChunk c = chunks[blockIdx.x];
    const float* x = reinterpret_cast<const float*>(c.param);
    double sum = 0.0;
    for (int i = threadIdx.x; i < c.count; i += blockDim.x) {
        const double e = (double)x[i];
        sum += e * e;
    }
    sum = warp_reduce_sum_f64(sum);
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    if (lane == 0) warp_sums[warp] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0.0;
        for (int w = 0; w < (int)(blockDim.x / WARP_SIZE); w++) total += warp_sums[w];
        partials[blockIdx.x] = total;
    }
}
