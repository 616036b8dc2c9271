// rmsnorm.cu: RMSNorm forward (saving rstd) and backward (dX per row; dWeight as a two-stage column reduction).
// y = x · rstd · weight, rstd = 1 / sqrt(mean(x²) + eps)  (model.py RMSNorm; RmsNormRef is the spec).
// Legend: R = rows (tokens), D = dim. T = storage type of x / y / weight / dY / dX; math and rstd in fp32.
// Launch: one block per row, blockDim a multiple of 32 (block reductions); dWeight in two stages (common/column_reduce.cuh).
#include "common/common.cuh"
#include "common/column_reduce.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget rmsnorm_backward_dweight_partials_*: regs<=40 smem<=0
// budget rmsnorm_*: regs<=32 smem<=128

// Rows move 16 bytes per thread access (4 fp32 or 8 bf16: VecRow<T>::V) when the row's pointers are 16-byte aligned,
// over the row's first dim − dim % V elements; the rest (the tail, or a whole row that is not aligned, as happens
// for every other row when dim is not a multiple of V) element by element. Every row is one block, so the choice is
// uniform within the block.
template <class T>
struct VecRow {
    static constexpr int V = 16 / sizeof(T);
    // Elements covered by vectors: 0 when a pointer is not aligned.
    static __device__ __forceinline__ int body(int dim, bool aligned) { return aligned ? dim - dim % V : 0; }
};

// Σ_d x[d]² over one row.
template <class T>
__device__ __forceinline__ float row_sum_squares(const T* __restrict__ row, int dim) {
    constexpr int V = VecRow<T>::V;
    const int body = VecRow<T>::body(dim, is_aligned16(row));
    float sum = 0.0f;
    float v[V];
    for (int d = V * threadIdx.x; d < body; d += V * blockDim.x) {
        load16(row + d, v);
        float part = 0.0f;   // the vector's own sum first, then the running one (the fp32 order before 8-wide bf16)
        for (int k = 0; k < V; k++) part += v[k] * v[k];
        sum += part;
    }
    for (int d = body + threadIdx.x; d < dim; d += blockDim.x) {
        const float x = to_f32(row[d]);
        sum += x * x;
    }
    return block_reduce_sum(sum);
}

template <class T>
__device__ __forceinline__ void rmsnorm_forward(const T* __restrict__ x,       // [R, D]
                                                const T* __restrict__ weight,  // [D]
                                                float eps, int dim,
                                                T* __restrict__ y,             // [R, D]
                                                float* __restrict__ rstd) {    // [R] or null
    constexpr int V = VecRow<T>::V;
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    T* yr = y + r * dim;
    // 1 / sqrtf rather than rsqrtf: both IEEE-rounded here, so the result matches the reference to the last bits.
    const float s = 1.0f / sqrtf(row_sum_squares(xr, dim) / (float)dim + eps);
    const int body = VecRow<T>::body(dim, is_aligned16(xr) && is_aligned16(yr) && is_aligned16(weight));
    float v[V], w[V];
    for (int d = V * threadIdx.x; d < body; d += V * blockDim.x) {
        load16(xr + d, v);
        load16(weight + d, w);
        for (int k = 0; k < V; k++) v[k] = v[k] * s * w[k];
        store16(yr + d, v);
    }
    for (int d = body + threadIdx.x; d < dim; d += blockDim.x) yr[d] = from_f32<T>(to_f32(xr[d]) * s * to_f32(weight[d]));
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
    constexpr int V = VecRow<T>::V;
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    const T* gr = dY + r * dim;
    T* dxr = dX + r * dim;
    const float s = rstd[r];
    const int body = VecRow<T>::body(dim, is_aligned16(xr) && is_aligned16(gr) && is_aligned16(dxr) && is_aligned16(weight));
    float xv[V], gv[V], wv[V];
    float dot = 0.0f;
    for (int d = V * threadIdx.x; d < body; d += V * blockDim.x) {
        load16(xr + d, xv);
        load16(gr + d, gv);
        load16(weight + d, wv);
        for (int k = 0; k < V; k++) dot += gv[k] * wv[k] * xv[k] * s;
    }
    for (int d = body + threadIdx.x; d < dim; d += blockDim.x) dot += to_f32(gr[d]) * to_f32(weight[d]) * to_f32(xr[d]) * s;
    const float mean_dot = block_reduce_sum(dot) / (float)dim;
    for (int d = V * threadIdx.x; d < body; d += V * blockDim.x) {
        load16(xr + d, xv);
        load16(gr + d, gv);
        load16(weight + d, wv);
        for (int k = 0; k < V; k++) xv[k] = s * (gv[k] * wv[k] - xv[k] * s * mean_dot);
        store16(dxr + d, xv);
    }
    for (int d = body + threadIdx.x; d < dim; d += blockDim.x) {
        const float n = to_f32(xr[d]) * s;
        dxr[d] = from_f32<T>(s * (to_f32(gr[d]) * to_f32(weight[d]) - n * mean_dot));
    }
}

// dWeight[d] += Σ_r dY[r, d] · x[r, d] · rstd[r]: the two-stage column reduction of common/column_reduce.cuh
// (per-slice fp32 partials, then their sum in slice order: deterministic, no atomics).
template <class T>
struct RmsNormWeightTerm : ColumnInputsXdY<T> {
    static constexpr int N = 1;
    static constexpr int V = ColumnVec<T>::V;
    const float* __restrict__ rstd;  // [R]

    __device__ __forceinline__ void add(int r, long long at, bool vec, int count, float (&acc)[N][V]) const {
        float xv[V], gv[V];
        this->load(at, vec, count, xv, gv);
        const float s = rstd[r];
#pragma unroll
        for (int k = 0; k < V; k++) acc[0][k] += gv[k] * xv[k] * s;
    }
};

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
extern "C" __global__ void rmsnorm_backward_dweight_partials_f32(const float* x, const float* rstd, const float* dY, int rows, int dim, int slice_rows, float* partials) {
    column_partials(RmsNormWeightTerm<float>{{x, dY}, rstd}, rows, dim, slice_rows, partials);
}
extern "C" __global__ void rmsnorm_backward_dweight_partials_bf16(const bf16* x, const float* rstd, const bf16* dY, int rows, int dim, int slice_rows, float* partials) {
    column_partials(RmsNormWeightTerm<bf16>{{x, dY}, rstd}, rows, dim, slice_rows, partials);
}
extern "C" __global__ void rmsnorm_backward_dweight_sum_f32(const float* partials, int slices, int dim, float* dWeight) {
    column_sum(partials, slices, dim, dim, dWeight);
}
