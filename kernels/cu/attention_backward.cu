// Sliding-window causal attention, backward of the cache-free forward (training): flash-attention-2 style, from the
// saved log-sum-exp, so neither the [T, T] scores nor the probabilities ever exist outside one tile.
//   P_ij = exp(scale·q_i·k_j − lse_i)   D_i = dY_i·y_i   dS_ij = P_ij (dY_i·v_j − D_i)
//   dV_j = Σ_i P_ij dY_i   dK_j = scale Σ_i dS_ij q_i   dQ_i = scale Σ_j dS_ij k_j
// over the visible pairs (j ≤ i, i − j < W, same sequence). AttentionRef.Backward is the spec.
// Legend: T = packed tokens, B = sequences, H = query heads, Hkv = kv heads, Dh = head dim, W = window,
//         BQ = queries per tile, BK = keys per tile.
//
// Two kernels, so that every gradient element has exactly one writer and no atomics (deterministic, which bit-exact
// resume needs):
//   attention_backward_dq:   one block = BQ queries of one head; walks the key tiles they see; writes dQ and D.
//   attention_backward_dkdv: one block = BK keys of one kv head; walks every query head of the group (GQA: dK and dV
//                            sum over them) and the query tiles that see the keys; writes dK and dV. Reads D.
// Both recompute the same [BQ, BK] tile of P and dS (attention_backward_tile). Tiles are staged in shared memory in
// fp32 (bf16 storage is widened once on load) and the products are plain fp32 FMAs.
// Launched in that order on one stream (the launcher): dkdv reads the D that dq wrote.
#include "common/common.cuh"
#include "attention_common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget attention_backward_dkdv_*_hd128: regs<=128 smem<=35328
// budget attention_backward_dq_*_hd128: regs<=112 smem<=35328
// budget attention_backward_dkdv_*_hd64: regs<=128 smem<=41984
// budget attention_backward_dq_*_hd64: regs<=112 smem<=41984
// budget attention_backward_*_hd32: regs<=80 smem<=25600
// budget attention_backward_*_hd16: regs<=56 smem<=17408
// budget attention_backward_*_hd8: regs<=40 smem<=13312

#define ATTENTION_BACKWARD_THREADS 128

// The shared-memory tiles of both kernels. Rows are padded by one float so that threads walking a column
// (same d, consecutive rows) hit distinct banks.
template <int Dh, int BQ, int BK>
struct AttentionBackwardSmem
{
    float q[BQ][Dh + 1];
    float dy[BQ][Dh + 1];
    float k[BK][Dh + 1];
    float v[BK][Dh + 1];
    float p[BQ][BK + 1];
    float ds[BQ][BK + 1];
    float lse[BQ];
    float d[BQ];
};

// rows × Dh elements of one head from the packed [T, stride] storage into an fp32 tile; rows past `count` are zero.
template <typename T, int Dh, int Rows>
__device__ __forceinline__ void attention_backward_load(const T* __restrict__ src, int first_token, int count, int stride,
                                                        int column, float (&tile)[Rows][Dh + 1])
{
    for (int idx = threadIdx.x; idx < Rows * Dh; idx += blockDim.x)
    {
        const int r = idx / Dh, c = idx % Dh;
        tile[r][c] = r < count ? to_f32(src[(long long)(first_token + r) * stride + column + c]) : 0.f;
    }
}

// P and dS of queries [q0, q0 + BQ) × keys [k0, k0 + BK) (chunk-relative indices; invisible or missing pairs are 0),
// from the staged q, dy, k, v, lse and d. Barriers around it are the caller's.
template <int Dh, int BQ, int BK>
__device__ __forceinline__ void attention_backward_tile(AttentionBackwardSmem<Dh, BQ, BK>& s, int q0, int q_count,
                                                        int k0, int k_count, int window, float scale)
{
    for (int e = threadIdx.x; e < BQ * BK; e += blockDim.x)
    {
        const int r = e / BK, c = e % BK;
        float p = 0.f, ds = 0.f;
        if (r < q_count && c < k_count && attention_key_visible(q0 + r, k0 + c, window))
        {
            float qk = 0.f, dyv = 0.f;
#pragma unroll 8
            for (int d = 0; d < Dh; ++d)
            {
                qk = fmaf(s.q[r][d], s.k[c][d], qk);
                dyv = fmaf(s.dy[r][d], s.v[c][d], dyv);
            }
            p = expf(scale * qk - s.lse[r]);
            ds = p * (dyv - s.d[r]);
        }
        s.p[r][c] = p;
        s.ds[r][c] = ds;
    }
}

struct AttentionBackwardArgs
{
    const void* q;                        // [T, H·Dh]
    const void* k;                        // [T, Hkv·Dh]
    const void* v;                        // [T, Hkv·Dh]
    const void* y;                        // [T, H·Dh]
    const float* lse;                     // [H, T]
    const void* dy;                       // [T, H·Dh]
    const AttentionSequence* sequences;   // [B]
    float* d;                             // [H, T] workspace: written by dq, read by dkdv
    void* dq;                             // [T, H·Dh]
    void* dk;                             // [T, Hkv·Dh]
    void* dv;                             // [T, Hkv·Dh]
    int total_tokens;
    int n_heads;
    int n_kv_heads;
    int window;                           // INT_MAX for plain causal
    float scale;                          // 1 / sqrt(Dh) · score scale (AttentionConfig.Scale)
};

// grid (ceil(max length / BQ), H, B)
template <typename T, int Dh, int BQ, int BK>
__device__ __forceinline__ void attention_backward_dq(const AttentionBackwardArgs& a)
{
    __shared__ AttentionBackwardSmem<Dh, BQ, BK> s;
    const AttentionSequence seq = a.sequences[blockIdx.z];
    const int q0 = blockIdx.x * BQ;
    if (q0 >= seq.length) return;   // blocks past a short sequence of a ragged batch
    const int head = blockIdx.y, kv_head = head / (a.n_heads / a.n_kv_heads);
    const int q_stride = a.n_heads * Dh, kv_stride = a.n_kv_heads * Dh;
    const int q_count = min(BQ, seq.length - q0);
    const int first = seq.token_offset + q0;

    attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.q), first, q_count, q_stride, head * Dh, s.q);
    attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.dy), first, q_count, q_stride, head * Dh, s.dy);
    // D_i = dY_i·y_i: one warp per row, lanes over the head dim; saved for the dkdv kernel.
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const T* y = static_cast<const T*>(a.y);
    const T* dy = static_cast<const T*>(a.dy);
    for (int r = warp; r < BQ; r += blockDim.x / WARP_SIZE)
    {
        float dot = 0.f;
        if (r < q_count)
        {
            const long long row = (long long)(first + r) * q_stride + head * Dh;
            for (int c = lane; c < Dh; c += WARP_SIZE) dot = fmaf(to_f32(dy[row + c]), to_f32(y[row + c]), dot);
        }
        dot = warp_reduce_sum(dot);
        if (lane == 0)
        {
            s.d[r] = dot;
            s.lse[r] = r < q_count ? a.lse[(long long)head * a.total_tokens + first + r] : 0.f;
            if (r < q_count) a.d[(long long)head * a.total_tokens + first + r] = dot;
        }
    }

    constexpr int PER_THREAD = BQ * Dh / ATTENTION_BACKWARD_THREADS;   // dQ elements each thread owns
    float acc[PER_THREAD];
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m) acc[m] = 0.f;

    // keys any of the tile's queries sees: (q0 − W, q0 + q_count − 1], clipped to the sequence
    const int q_last = q0 + q_count - 1;
    const int key_lo = q0 - min(a.window - 1, q0);
    for (int k0 = key_lo; k0 <= q_last; k0 += BK)
    {
        const int k_count = min(BK, q_last + 1 - k0);
        __syncthreads();   // the previous tile's k, v, ds are no longer read
        attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.k), seq.token_offset + k0, k_count, kv_stride, kv_head * Dh, s.k);
        attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.v), seq.token_offset + k0, k_count, kv_stride, kv_head * Dh, s.v);
        __syncthreads();
        attention_backward_tile(s, q0, q_count, k0, k_count, a.window, a.scale);
        __syncthreads();
#pragma unroll
        for (int m = 0; m < PER_THREAD; ++m)
        {
            const int e = threadIdx.x + m * ATTENTION_BACKWARD_THREADS, r = e / Dh, d = e % Dh;
            float sum = acc[m];
            for (int c = 0; c < k_count; ++c) sum = fmaf(s.ds[r][c], s.k[c][d], sum);
            acc[m] = sum;
        }
    }

    T* dq = static_cast<T*>(a.dq);
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m)
    {
        const int e = threadIdx.x + m * ATTENTION_BACKWARD_THREADS, r = e / Dh, d = e % Dh;
        if (r < q_count) dq[(long long)(first + r) * q_stride + head * Dh + d] = from_f32<T>(a.scale * acc[m]);
    }
}

// grid (ceil(max length / BK), Hkv, B)
template <typename T, int Dh, int BQ, int BK>
__device__ __forceinline__ void attention_backward_dkdv(const AttentionBackwardArgs& a)
{
    __shared__ AttentionBackwardSmem<Dh, BQ, BK> s;
    const AttentionSequence seq = a.sequences[blockIdx.z];
    const int k0 = blockIdx.x * BK;
    if (k0 >= seq.length) return;
    const int kv_head = blockIdx.y, group = a.n_heads / a.n_kv_heads;
    const int q_stride = a.n_heads * Dh, kv_stride = a.n_kv_heads * Dh;
    const int k_count = min(BK, seq.length - k0);
    const int first_key = seq.token_offset + k0;
    attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.k), first_key, k_count, kv_stride, kv_head * Dh, s.k);
    attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.v), first_key, k_count, kv_stride, kv_head * Dh, s.v);

    constexpr int PER_THREAD = BK * Dh / ATTENTION_BACKWARD_THREADS;   // dK and dV elements each thread owns
    float dk[PER_THREAD], dv[PER_THREAD];
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m) dk[m] = dv[m] = 0.f;

    // queries that see any of the tile's keys: [k0, k_last + W − 1], clipped to the sequence
    const int k_last = k0 + k_count - 1;
    const int query_hi = k_last + min(a.window - 1, seq.length - 1 - k_last);
    for (int head = kv_head * group; head < (kv_head + 1) * group; ++head)
        for (int q0 = k0; q0 <= query_hi; q0 += BQ)
        {
            const int q_count = min(BQ, query_hi + 1 - q0);
            const int first = seq.token_offset + q0;
            __syncthreads();   // the previous tile's q, dy, p, ds are no longer read
            attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.q), first, q_count, q_stride, head * Dh, s.q);
            attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.dy), first, q_count, q_stride, head * Dh, s.dy);
            for (int r = threadIdx.x; r < BQ; r += blockDim.x)
            {
                const long long at = (long long)head * a.total_tokens + first + r;
                s.lse[r] = r < q_count ? a.lse[at] : 0.f;
                s.d[r] = r < q_count ? a.d[at] : 0.f;
            }
            __syncthreads();
            attention_backward_tile(s, q0, q_count, k0, k_count, a.window, a.scale);
            __syncthreads();
#pragma unroll
            for (int m = 0; m < PER_THREAD; ++m)
            {
                const int e = threadIdx.x + m * ATTENTION_BACKWARD_THREADS, c = e / Dh, d = e % Dh;
                float sum_v = dv[m], sum_k = dk[m];
                for (int r = 0; r < q_count; ++r)
                {
                    sum_v = fmaf(s.p[r][c], s.dy[r][d], sum_v);
                    sum_k = fmaf(s.ds[r][c], s.q[r][d], sum_k);
                }
                dv[m] = sum_v;
                dk[m] = sum_k;
            }
        }

    T* dK = static_cast<T*>(a.dk);
    T* dV = static_cast<T*>(a.dv);
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m)
    {
        const int e = threadIdx.x + m * ATTENTION_BACKWARD_THREADS, c = e / Dh, d = e % Dh;
        if (c < k_count)
        {
            const long long at = (long long)(first_key + c) * kv_stride + kv_head * Dh + d;
            dK[at] = from_f32<T>(a.scale * dk[m]);
            dV[at] = from_f32<T>(dv[m]);
        }
    }
}

// Entry points (the launch contract of AttentionBackwardKernel.cs): block 128 threads; dq grid (ceil(max length / BQ),
// H, B), dkdv grid (ceil(max length / BK), Hkv, B). Tiles: 32 × 32 up to head dim 64, 16 × 16 at 128, which keeps
// the fp32 tiles under the 48 KiB of static shared memory. Arguments one by one (a launch passes ≤ 8 bytes each).
#define ATTENTION_BACKWARD_PARAMS \
    const void* q, const void* k, const void* v, const void* y, const float* lse, const void* dy, \
    const AttentionSequence* sequences, int total_tokens, int n_heads, int n_kv_heads, int window, float scale, \
    float* d, void* dq, void* dk, void* dv
#define ATTENTION_BACKWARD_ARGS \
    AttentionBackwardArgs{q, k, v, y, lse, dy, sequences, d, dq, dk, dv, total_tokens, n_heads, n_kv_heads, window, scale}
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_f32_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<float, 8, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_f32_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<float, 8, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_f32_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<float, 16, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_f32_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<float, 16, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_f32_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<float, 32, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_f32_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<float, 32, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_f32_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<float, 64, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_f32_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<float, 64, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_f32_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<float, 128, 16, 16>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_f32_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<float, 128, 16, 16>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<bf16, 8, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<bf16, 8, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<bf16, 16, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<bf16, 16, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<bf16, 32, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<bf16, 32, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<bf16, 64, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<bf16, 64, 32, 32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_dq<bf16, 128, 16, 16>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_dkdv<bf16, 128, 16, 16>(ATTENTION_BACKWARD_ARGS); }
