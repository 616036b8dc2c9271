// rmsnorm.cu: RMSNorm forward (saving rstd) and backward (dX per row; dWeight as a column reduction).
// y = x · rstd · weight, rstd = 1 / sqrt(mean(x²) + eps)  (model.py RMSNorm; RmsNormRef is the spec).
// Legend: R = rows (tokens), D = dim. T = storage type of x / y / weight / dY / dX; math and rstd in fp32.
// Launch: one block per row, blockDim a multiple of 32 (block reductions).
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget rmsnorm_*: regs<=32 smem<=128

// Σ_d f(d) over one row, each thread taking 4 contiguous elements at a time when the row allows vector loads.
template <class T>
__device__ __forceinline__ float row_sum_squares(const T* __restrict__ row, int dim) {
    float sum = 0.0f;
    if (dim % 4 == 0 && is_aligned4(row)) {
        float v[4];
        for (int d = 4 * threadIdx.x; d < dim; d += 4 * blockDim.x) {
            load4(row + d, v);
            sum += v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3];
        }
    } else {
        for (int d = threadIdx.x; d < dim; d += blockDim.x) {
            const float v = to_f32(row[d]);
            sum += v * v;
        }
    }
    return block_reduce_sum(sum);
}

template <class T>
__device__ __forceinline__ void rmsnorm_forward(const T* __restrict__ x,       // [R, D]
                                                const T* __restrict__ weight,  // [D]
                                                float eps, int dim,
                                                T* __restrict__ y,             // [R, D]
                                                float* __restrict__ rstd) {    // [R] or null
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    T* yr = y + r * dim;
    // 1 / sqrtf rather than rsqrtf: both IEEE-rounded here, so the result matches the reference to the last bits.
    const float s = 1.0f / sqrtf(row_sum_squares(xr, dim) / (float)dim + eps);
    if (dim % 4 == 0 && is_aligned4(xr) && is_aligned4(yr) && is_aligned4(weight)) {
        float v[4], w[4];
        for (int d = 4 * threadIdx.x; d < dim; d += 4 * blockDim.x) {
            load4(xr + d, v);
            load4(weight + d, w);
            for (int k = 0; k < 4; k++) v[k] = v[k] * s * w[k];
            store4(yr + d, v);
        }
    } else {
        for (int d = threadIdx.x; d < dim; d += blockDim.x) yr[d] = from_f32<T>(to_f32(xr[d]) * s * to_f32(weight[d]));
    }
    if (rstd != nullptr && threadIdx.x == 0) rstd[r] = s;
}

// dX = rstd · (g − n · mean(g ⊙ n)), n = x · rstd, g = dY ⊙ weight.
template <class T>
__device__ __forceinline__ void rmsnorm_backward(const T* __restrict__ x,         // [R, D]
                                                 const T* __restrict__ weight,    // [D]
                                                 const float* __restrict__ rstd,  // [R]
                                                 const T* __restrict__ dY,        // [R, D]
                                                 int dim,
                                                 T* __restrict__ dX) {            // [R, D] overwritten
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    const T* gr = dY + r * dim;
    T* dxr = dX + r * dim;
    const float s = rstd[r];
    float dot = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) dot += to_f32(gr[d]) * to_f32(weight[d]) * to_f32(xr[d]) * s;
    const float mean_dot = block_reduce_sum(dot) / (float)dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        const float n = to_f32(xr[d]) * s;
        dxr[d] = from_f32<T>(s * (to_f32(gr[d]) * to_f32(weight[d]) - n * mean_dot));
    }
}

// dWeight[d] += Σ_r dY[r, d] · x[r, d] · rstd[r]: one thread per column walking the rows in order, so the sum is
// deterministic and needs no atomics; neighbouring threads read neighbouring columns (coalesced).
template <class T>
__device__ __forceinline__ void rmsnorm_backward_dweight(const T* __restrict__ x,         // [R, D]
                                                         const float* __restrict__ rstd,  // [R]
                                                         const T* __restrict__ dY,        // [R, D]
                                                         int rows, int dim,
                                                         float* __restrict__ dWeight) {   // [D] +=
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= dim) return;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++) sum += to_f32(dY[(long long)r * dim + d]) * to_f32(x[(long long)r * dim + d]) * rstd[r];
    dWeight[d] += sum;
}

extern "C" __global__ void rmsnorm_forward_f32(const float* x, const float* weight, float eps, int dim, float* y, float* rstd) {
    rmsnorm_forward<float>(x, weight, eps, dim, y, rstd);
}
extern "C" __global__ void rmsnorm_forward_bf16(const bf16* x, const bf16* weight, float eps, int dim, bf16* y, float* rstd) {
    rmsnorm_forward<bf16>(x, weight, eps, dim, y, rstd);
}
extern "C" __global__ void rmsnorm_backward_f32(const float* x, const float* weight, const float* rstd, const float* dY, int dim, float* dX) {
    rmsnorm_backward<float>(x, weight, rstd, dY, dim, dX);
}
extern "C" __global__ void rmsnorm_backward_bf16(const bf16* x, const bf16* weight, const float* rstd, const bf16* dY, int dim, bf16* dX) {
    rmsnorm_backward<bf16>(x, weight, rstd, dY, dim, dX);
}
extern "C" __global__ void rmsnorm_backward_dweight_f32(const float* x, const float* rstd, const float* dY, int rows, int dim, float* dWeight) {
    rmsnorm_backward_dweight<float>(x, rstd, dY, rows, dim, dWeight);
}
extern "C" __global__ void rmsnorm_backward_dweight_bf16(const bf16* x, const float* rstd, const bf16* dY, int rows, int dim, float* dWeight) {
    rmsnorm_backward_dweight<bf16>(x, rstd, dY, rows, dim, dWeight);
}
