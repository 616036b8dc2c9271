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
// Both recompute the same [BQ, BK] tile of P and dS. The loops visit only tiles that meet the causal/window band (the
// key range of a query tile, the query range of a key tile); a tile wholly inside the band skips the mask.
// bf16: 64 × 64 tiles on the tensor cores (attention_backward_mma_*; kernels/README.md has the design and the FLOPs).
// fp32: 32 × 32 tiles (16 × 16 at head dim 128) staged in shared memory, plain fp32 FMAs: --precision fp32 is the
//       exact path whose parity is held to 1e-6, and TF32 or bf16 products would lose it.
// Launched in that order on one stream (the launcher): dkdv reads the D that dq wrote.
#include "common/common.cuh"
#include "common/mma.cuh"
#include "attention_common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated). The bf16 kernels keep
// their tiles in dynamic shared memory (AttentionBackwardMmaSmem: 70 144 bytes at hd128, 37 376 at hd64, 20 992 at
// hd32, 12 800 at hd16 and hd8), so their static figure is 0. dkdv holds dK and dV of 16 keys × Dh (Dh fp32 registers
// a lane) across the walk: 232 registers at hd128, 2 blocks (8 warps) an SM.
// budget attention_backward_dkdv_bf16_hd128: regs<=232 smem<=0
// budget attention_backward_dq_bf16_hd128: regs<=168 smem<=0
// budget attention_backward_dkdv_bf16_hd64: regs<=168 smem<=0
// budget attention_backward_dq_bf16_hd64: regs<=128 smem<=0
// budget attention_backward_dkdv_bf16_hd32: regs<=128 smem<=0
// budget attention_backward_dq_bf16_hd32: regs<=128 smem<=0
// budget attention_backward_*_bf16_hd16: regs<=128 smem<=0
// budget attention_backward_dkdv_bf16_hd8: regs<=80 smem<=0
// budget attention_backward_dq_bf16_hd8: regs<=96 smem<=0
// budget attention_backward_dkdv_f32_hd128: regs<=128 smem<=35328
// budget attention_backward_dq_f32_hd128: regs<=112 smem<=35328
// budget attention_backward_dkdv_f32_hd64: regs<=128 smem<=41984
// budget attention_backward_dq_f32_hd64: regs<=112 smem<=41984
// budget attention_backward_*_f32_hd32: regs<=80 smem<=25600
// budget attention_backward_*_f32_hd16: regs<=56 smem<=17408
// budget attention_backward_*_f32_hd8: regs<=40 smem<=13312

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

// A block's own rows: tile blockIdx.x of sequence blockIdx.z, [start, start + count) chunk-relative (count ≤ 0 for a
// block past a short sequence of a ragged batch) from packed token `first`, and the row strides of the q-shaped
// ([T, H·Dh]) and kv-shaped ([T, Hkv·Dh]) tensors.
struct AttentionBackwardRows
{
    AttentionSequence seq;
    int start, count, first, q_stride, kv_stride;
};

template <int Dh, int Rows>
__device__ __forceinline__ AttentionBackwardRows attention_backward_rows(const AttentionBackwardArgs& a)
{
    AttentionBackwardRows r;
    r.seq = a.sequences[blockIdx.z];
    r.start = blockIdx.x * Rows;
    r.count = min(Rows, r.seq.length - r.start);
    r.first = r.seq.token_offset + r.start;
    r.q_stride = a.n_heads * Dh;
    r.kv_stride = a.n_kv_heads * Dh;
    return r;
}

// The walks' ranges, which are what keeps them inside the band: the keys any query of [q0, q_last] sees start at
// q0 − (W − 1), clipped to the sequence's first; the queries that see any key of [k0, k_last] end at k_last + W − 1,
// clipped to its last. Written as differences so that W = INT_MAX (plain causal) cannot overflow.
__device__ __forceinline__ int attention_backward_first_key(int q0, int window) { return q0 - min(window - 1, q0); }
__device__ __forceinline__ int attention_backward_last_query(int k_last, int window, int length)
{
    return k_last + min(window - 1, length - 1 - k_last);
}

// D_i = dY_i·y_i of rows [first, first + count) of one head, one warp per row with lanes over the head dim, written to
// the workspace for dkdv; D and the row's lse also go to shared memory (0 past count, where rows are masked).
template <typename T, int Dh, int Rows>
__device__ __forceinline__ void attention_backward_row_terms(const AttentionBackwardArgs& a, int head, int first, int count,
                                                             float* lse, float* d)
{
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const T* y = static_cast<const T*>(a.y);
    const T* dy = static_cast<const T*>(a.dy);
    const int stride = a.n_heads * Dh;
    for (int r = warp; r < Rows; r += blockDim.x / WARP_SIZE)
    {
        float dot = 0.f;
        if (r < count)
        {
            const long long row = (long long)(first + r) * stride + head * Dh;
            for (int c = lane; c < Dh; c += WARP_SIZE) dot = fmaf(to_f32(dy[row + c]), to_f32(y[row + c]), dot);
        }
        dot = warp_reduce_sum(dot);
        if (lane == 0)
        {
            d[r] = dot;
            lse[r] = r < count ? a.lse[(long long)head * a.total_tokens + first + r] : 0.f;
            if (r < count) a.d[(long long)head * a.total_tokens + first + r] = dot;
        }
    }
}

// The lse and D of query rows [first, first + count) of one head into shared memory (0 past count).
template <int Rows>
__device__ __forceinline__ void attention_backward_load_row_terms(const AttentionBackwardArgs& a, int head, int first, int count,
                                                                  float* lse, float* d)
{
    for (int r = threadIdx.x; r < Rows; r += blockDim.x)
    {
        const long long at = (long long)head * a.total_tokens + first + r;
        lse[r] = r < count ? a.lse[at] : 0.f;
        d[r] = r < count ? a.d[at] : 0.f;
    }
}

// grid (ceil(max length / BQ), H, B)
template <typename T, int Dh, int BQ, int BK>
__device__ __forceinline__ void attention_backward_dq(const AttentionBackwardArgs& a)
{
    __shared__ AttentionBackwardSmem<Dh, BQ, BK> s;
    const AttentionBackwardRows own = attention_backward_rows<Dh, BQ>(a);
    if (own.count <= 0) return;   // a block past a short sequence of a ragged batch
    const int head = blockIdx.y, kv_head = head / (a.n_heads / a.n_kv_heads);

    attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.q), own.first, own.count, own.q_stride, head * Dh, s.q);
    attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.dy), own.first, own.count, own.q_stride, head * Dh, s.dy);
    attention_backward_row_terms<T, Dh, BQ>(a, head, own.first, own.count, s.lse, s.d);

    constexpr int PER_THREAD = BQ * Dh / ATTENTION_BACKWARD_THREADS;   // dQ elements each thread owns
    float acc[PER_THREAD];
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m) acc[m] = 0.f;

    const int q_last = own.start + own.count - 1;
    for (int k0 = attention_backward_first_key(own.start, a.window); k0 <= q_last; k0 += BK)
    {
        const int k_count = min(BK, q_last + 1 - k0);
        __syncthreads();   // the previous tile's k, v, ds are no longer read
        attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.k), own.seq.token_offset + k0, k_count, own.kv_stride, kv_head * Dh, s.k);
        attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.v), own.seq.token_offset + k0, k_count, own.kv_stride, kv_head * Dh, s.v);
        __syncthreads();
        attention_backward_tile(s, own.start, own.count, k0, k_count, a.window, a.scale);
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
        if (r < own.count) dq[(long long)(own.first + r) * own.q_stride + head * Dh + d] = from_f32<T>(a.scale * acc[m]);
    }
}

// grid (ceil(max length / BK), Hkv, B)
template <typename T, int Dh, int BQ, int BK>
__device__ __forceinline__ void attention_backward_dkdv(const AttentionBackwardArgs& a)
{
    __shared__ AttentionBackwardSmem<Dh, BQ, BK> s;
    const AttentionBackwardRows own = attention_backward_rows<Dh, BK>(a);
    if (own.count <= 0) return;   // a block past a short sequence of a ragged batch
    const int kv_head = blockIdx.y, group = a.n_heads / a.n_kv_heads;
    attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.k), own.first, own.count, own.kv_stride, kv_head * Dh, s.k);
    attention_backward_load<T, Dh, BK>(static_cast<const T*>(a.v), own.first, own.count, own.kv_stride, kv_head * Dh, s.v);

    constexpr int PER_THREAD = BK * Dh / ATTENTION_BACKWARD_THREADS;   // dK and dV elements each thread owns
    float dk[PER_THREAD], dv[PER_THREAD];
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m) dk[m] = dv[m] = 0.f;

    const int query_hi = attention_backward_last_query(own.start + own.count - 1, a.window, own.seq.length);
    for (int head = kv_head * group; head < (kv_head + 1) * group; ++head)
        for (int q0 = own.start; q0 <= query_hi; q0 += BQ)
        {
            const int q_count = min(BQ, query_hi + 1 - q0);
            const int first = own.seq.token_offset + q0;
            __syncthreads();   // the previous tile's q, dy, p, ds are no longer read
            attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.q), first, q_count, own.q_stride, head * Dh, s.q);
            attention_backward_load<T, Dh, BQ>(static_cast<const T*>(a.dy), first, q_count, own.q_stride, head * Dh, s.dy);
            attention_backward_load_row_terms<BQ>(a, head, first, q_count, s.lse, s.d);
            __syncthreads();
            attention_backward_tile(s, q0, q_count, own.start, own.count, a.window, a.scale);
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
        if (c < own.count)
        {
            const long long at = (long long)(own.first + c) * own.kv_stride + kv_head * Dh + d;
            dK[at] = from_f32<T>(a.scale * dk[m]);
            dV[at] = from_f32<T>(dv[m]);
        }
    }
}

// ---- bf16 on the tensor cores -------------------------------------------------------------------------------------
// One block = 64 rows of its own (dq: queries of one head; dkdv: keys of one kv head), 4 warps of 16 rows each; it walks
// 64-row tiles of the other side. Per walked tile a warp computes, with mma.m16n8k16 (fragment layout in mma.cuh):
//   scores  S [16 × 64] = own₀ · walk₀ᵀ   (dq: Q·Kᵀ;  dkdv: K·Qᵀ = Sᵀ)     A: own rows    B: walk rows (32-bit pairs)
//   dP      [16 × 64] = own₁ · walk₁ᵀ     (dq: dY·Vᵀ; dkdv: V·dYᵀ = dPᵀ)
//   P, dS in the accumulator registers, then products over the 64 walked rows with the C fragments reused as A:
//   dq:   dQ [16 × Dh] += dS · K          dkdv: dV += Pᵀ · dY,  dK += dSᵀ · Q      B: walk columns (two 16-bit loads)
// Everything lives in dynamic shared memory as bf16 (AttentionBackwardMmaSmem); the accumulators are fp32 registers.
#define ATTENTION_BACKWARD_MMA_TILE 64

template <int Dh>
struct AttentionBackwardMmaShape
{
    static constexpr int DK = Dh < 16 ? 16 : Dh;   // the k extent of the score products: one 16-wide step at least, zero-padded past Dh
    static constexpr int LD = DK + 8;              // row stride (bf16): 16 bytes of pad put the 8 rows of a fragment load on distinct banks
};

// Mirrored by AttentionBackwardKernel.SharedBytes: 4 · 64 · LD bf16 + 128 floats.
template <int Dh>
struct AttentionBackwardMmaSmem
{
    bf16 own[2][ATTENTION_BACKWARD_MMA_TILE][AttentionBackwardMmaShape<Dh>::LD];    // dq: Q, dY;  dkdv: K, V (staged once)
    bf16 walk[2][ATTENTION_BACKWARD_MMA_TILE][AttentionBackwardMmaShape<Dh>::LD];   // dq: K, V;   dkdv: Q, dY (per tile)
    float lse[ATTENTION_BACKWARD_MMA_TILE];                                         // of the queries (own or walked)
    float d[ATTENTION_BACKWARD_MMA_TILE];
};

template <int Dh>
__device__ __forceinline__ AttentionBackwardMmaSmem<Dh>& attention_backward_mma_smem()
{
    extern __shared__ __align__(16) unsigned char attention_backward_dynamic[];
    return *reinterpret_cast<AttentionBackwardMmaSmem<Dh>*>(attention_backward_dynamic);
}

// 64 rows × Dh of one head from the packed [T, stride] storage, 16 bytes per access; rows past `count` and the pad
// columns up to DK are zero (they meet masked or zero operands: NaN poison would survive 0 · NaN).
template <int Dh>
__device__ __forceinline__ void attention_backward_mma_stage(const bf16* __restrict__ src, int first_token, int count, int stride,
                                                             int column, bf16 (*tile)[AttentionBackwardMmaShape<Dh>::LD])
{
    constexpr int CHUNKS = AttentionBackwardMmaShape<Dh>::DK / 8;
    for (int idx = threadIdx.x; idx < ATTENTION_BACKWARD_MMA_TILE * CHUNKS; idx += blockDim.x)
    {
        const int r = idx / CHUNKS, c = idx % CHUNKS * 8;
        uint4 v = make_uint4(0u, 0u, 0u, 0u);
        if (r < count && c < Dh) v = *reinterpret_cast<const uint4*>(src + (long long)(first_token + r) * stride + column + c);
        *reinterpret_cast<uint4*>(&tile[r][c]) = v;
    }
}

__device__ __forceinline__ unsigned int attention_backward_mma_pair(const bf16* p)
{
    return *reinterpret_cast<const unsigned int*>(p);
}

// Rows r and r + 1 of one column (the B operand of a product over the walked rows): low half = row r.
template <int LD>
__device__ __forceinline__ unsigned int attention_backward_mma_column_pair(const bf16* p)
{
    return (unsigned int)p[0].bits | ((unsigned int)p[LD].bits << 16);
}

__device__ __forceinline__ unsigned int attention_backward_mma_pack(float low, float high)
{
    return (unsigned int)f32_to_bf16(low).bits | ((unsigned int)f32_to_bf16(high).bits << 16);
}

// s = own₀[rows] · walk₀ᵀ and dp = own₁[rows] · walk₁ᵀ for the warp's 16 own rows × walked rows [w0, w0 + 8·NT), over DK.
template <int Dh, int NT>
__device__ __forceinline__ void attention_backward_mma_scores(const AttentionBackwardMmaSmem<Dh>& sm, int row0, int w0, float (&s)[NT][4],
                                                              float (&dp)[NT][4])
{
    constexpr int DK = AttentionBackwardMmaShape<Dh>::DK;
    const int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[nt][e] = dp[nt][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < DK / 16; ++kk)
    {
        const int c = kk * 16 + 2 * t;
        const unsigned int a0[4] = {attention_backward_mma_pair(&sm.own[0][row0 + g][c]), attention_backward_mma_pair(&sm.own[0][row0 + g + 8][c]),
                                    attention_backward_mma_pair(&sm.own[0][row0 + g][c + 8]), attention_backward_mma_pair(&sm.own[0][row0 + g + 8][c + 8])};
        const unsigned int a1[4] = {attention_backward_mma_pair(&sm.own[1][row0 + g][c]), attention_backward_mma_pair(&sm.own[1][row0 + g + 8][c]),
                                    attention_backward_mma_pair(&sm.own[1][row0 + g][c + 8]), attention_backward_mma_pair(&sm.own[1][row0 + g + 8][c + 8])};
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
        {
            const int w = w0 + nt * 8 + g;
            const unsigned int b0[2] = {attention_backward_mma_pair(&sm.walk[0][w][c]), attention_backward_mma_pair(&sm.walk[0][w][c + 8])};
            mma_m16n8k16_bf16(s[nt], a0, b0);
            const unsigned int b1[2] = {attention_backward_mma_pair(&sm.walk[1][w][c]), attention_backward_mma_pair(&sm.walk[1][w][c + 8])};
            mma_m16n8k16_bf16(dp[nt], a1, b1);
        }
    }
}

// acc [16 × Dh] += c [16 × 64] · x [64 × Dh]: the C fragments of c, rounded to bf16, are the A fragments of the
// product (k-step kk = accumulator tiles 2kk, 2kk + 1); x is a walked tile, read down its columns.
template <int Dh, int NT, bool Split>
__device__ __forceinline__ void attention_backward_mma_accumulate(const float (&c)[NT][4], int w0,
                                                                  const bf16 (*x)[AttentionBackwardMmaShape<Dh>::LD], float (&acc)[Dh / 8][4])
{
    constexpr int LD = AttentionBackwardMmaShape<Dh>::LD;
    const int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int kk = 0; kk < NT / 2; ++kk)
    {
        const unsigned int a[4] = {attention_backward_mma_pack(c[2 * kk][0], c[2 * kk][1]), attention_backward_mma_pack(c[2 * kk][2], c[2 * kk][3]),
                                   attention_backward_mma_pack(c[2 * kk + 1][0], c[2 * kk + 1][1]), attention_backward_mma_pack(c[2 * kk + 1][2], c[2 * kk + 1][3])};
        unsigned int lo[4];
        if (Split)
        {
            lo[0] = attention_backward_mma_pack(c[2 * kk][0] - bf16_bits_to_f32(a[0] & 0xffffu), c[2 * kk][1] - bf16_bits_to_f32(a[0] >> 16));
            lo[1] = attention_backward_mma_pack(c[2 * kk][2] - bf16_bits_to_f32(a[1] & 0xffffu), c[2 * kk][3] - bf16_bits_to_f32(a[1] >> 16));
            lo[2] = attention_backward_mma_pack(c[2 * kk + 1][0] - bf16_bits_to_f32(a[2] & 0xffffu), c[2 * kk + 1][1] - bf16_bits_to_f32(a[2] >> 16));
            lo[3] = attention_backward_mma_pack(c[2 * kk + 1][2] - bf16_bits_to_f32(a[3] & 0xffffu), c[2 * kk + 1][3] - bf16_bits_to_f32(a[3] >> 16));
        }
        const int r = w0 + kk * 16 + 2 * t;
#pragma unroll
        for (int nt = 0; nt < Dh / 8; ++nt)
        {
            const unsigned int b[2] = {attention_backward_mma_column_pair<LD>(&x[r][nt * 8 + g]), attention_backward_mma_column_pair<LD>(&x[r + 8][nt * 8 + g])};
            mma_m16n8k16_bf16(acc[nt], a, b);
            if (Split) mma_m16n8k16_bf16(acc[nt], lo, b);
        }
    }
}

// P and dS in place of s and dp (the pair's query/key index in the tile: rows are queries in dq, keys in dkdv). Pairs
// outside the band or past a count get 0; a tile wholly inside (masked == false) skips the test.
template <bool RowsAreQueries, int NT>
__device__ __forceinline__ void attention_backward_mma_softmax(float (&s)[NT][4], float (&dp)[NT][4], const float* lse, const float* d,
                                                               int row0, int w0, bool masked, int q0, int q_count, int k0, int k_count,
                                                               int window, float scale)
{
    const int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            const int row = row0 + g + (e >> 1) * 8, col = w0 + nt * 8 + 2 * t + (e & 1);
            const int qi = RowsAreQueries ? row : col, kj = RowsAreQueries ? col : row;
            const bool visible = !masked || (qi < q_count && kj < k_count && attention_key_visible(q0 + qi, k0 + kj, window));
            const float p = visible ? expf(scale * s[nt][e] - lse[qi]) : 0.f;
            s[nt][e] = p;
            dp[nt][e] = p * (dp[nt][e] - d[qi]);
        }
}

// Whether some pair of a tile is outside the band or past a count (the others need no test).
__device__ __forceinline__ bool attention_backward_mma_masked(int q0, int q_count, int k0, int k_count, int window)
{
    const int last = ATTENTION_BACKWARD_MMA_TILE - 1;
    return q_count < ATTENTION_BACKWARD_MMA_TILE || k_count < ATTENTION_BACKWARD_MMA_TILE || k0 + last > q0 || q0 + last - k0 >= window;
}

// acc [16 × Dh] of the warp's rows, times `factor`, to rows [first, first + count) of the packed output, two bf16 a lane.
template <int Dh>
__device__ __forceinline__ void attention_backward_mma_store(const float (&acc)[Dh / 8][4], float factor, bf16* out, int first, int row0,
                                                             int count, int stride, int column)
{
    const int lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int half = 0; half < 2; ++half)
    {
        const int r = row0 + g + half * 8;
        if (r >= count) continue;
        unsigned int* row = reinterpret_cast<unsigned int*>(out + (long long)(first + r) * stride + column);
#pragma unroll
        for (int nt = 0; nt < Dh / 8; ++nt)
            row[nt * 4 + t] = attention_backward_mma_pack(factor * acc[nt][2 * half], factor * acc[nt][2 * half + 1]);
    }
}

// grid (ceil(max length / 64), H, B), dynamic shared memory AttentionBackwardMmaSmem<Dh>
template <int Dh>
__device__ __forceinline__ void attention_backward_mma_dq(const AttentionBackwardArgs& a)
{
    constexpr int TILE = ATTENTION_BACKWARD_MMA_TILE;
    AttentionBackwardMmaSmem<Dh>& sm = attention_backward_mma_smem<Dh>();
    const AttentionBackwardRows own = attention_backward_rows<Dh, TILE>(a);
    if (own.count <= 0) return;   // a block past a short sequence of a ragged batch
    const int head = blockIdx.y, kv_head = head / (a.n_heads / a.n_kv_heads);
    const int row0 = threadIdx.x / WARP_SIZE * 16;

    attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.q), own.first, own.count, own.q_stride, head * Dh, sm.own[0]);
    attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.dy), own.first, own.count, own.q_stride, head * Dh, sm.own[1]);
    attention_backward_row_terms<bf16, Dh, TILE>(a, head, own.first, own.count, sm.lse, sm.d);

    float acc[Dh / 8][4];
#pragma unroll
    for (int nt = 0; nt < Dh / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[nt][e] = 0.f;

    const int q_last = own.start + own.count - 1;
    for (int k0 = attention_backward_first_key(own.start, a.window); k0 <= q_last; k0 += TILE)
    {
        const int k_count = min(TILE, q_last + 1 - k0);
        __syncthreads();   // the previous tile's K, V are no longer read
        attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.k), own.seq.token_offset + k0, k_count, own.kv_stride, kv_head * Dh, sm.walk[0]);
        attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.v), own.seq.token_offset + k0, k_count, own.kv_stride, kv_head * Dh, sm.walk[1]);
        __syncthreads();
        float s[8][4], dp[8][4];
        attention_backward_mma_scores<Dh, 8>(sm, row0, 0, s, dp);
        attention_backward_mma_softmax<true, 8>(s, dp, sm.lse, sm.d, row0, 0, attention_backward_mma_masked(own.start, own.count, k0, k_count, a.window),
                                                own.start, own.count, k0, k_count, a.window, a.scale);
        attention_backward_mma_accumulate<Dh, 8, true>(dp, 0, sm.walk[0], acc);
    }
    attention_backward_mma_store<Dh>(acc, a.scale, static_cast<bf16*>(a.dq), own.first, row0, own.count, own.q_stride, head * Dh);
}

// grid (ceil(max length / 64), Hkv, B), dynamic shared memory AttentionBackwardMmaSmem<Dh>
template <int Dh>
__device__ __forceinline__ void attention_backward_mma_dkdv(const AttentionBackwardArgs& a)
{
    constexpr int TILE = ATTENTION_BACKWARD_MMA_TILE;
    // walked queries per pass, 8 per accumulator tile: half the tile (S and dP 16 registers each), so that dK and dV
    // (Dh registers) stay in registers without spilling at hd128 and within 128 registers up to hd32. At hd16 ptxas
    // 12.4 spills 8 bytes with half the tile and none with the whole (measured), so hd16 takes the whole.
    constexpr int NT = Dh == 16 ? 8 : 4;
    AttentionBackwardMmaSmem<Dh>& sm = attention_backward_mma_smem<Dh>();
    const AttentionBackwardRows own = attention_backward_rows<Dh, TILE>(a);
    if (own.count <= 0) return;   // a block past a short sequence of a ragged batch
    const int kv_head = blockIdx.y, group = a.n_heads / a.n_kv_heads;
    const int row0 = threadIdx.x / WARP_SIZE * 16;
    attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.k), own.first, own.count, own.kv_stride, kv_head * Dh, sm.own[0]);
    attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.v), own.first, own.count, own.kv_stride, kv_head * Dh, sm.own[1]);

    float dk[Dh / 8][4], dv[Dh / 8][4];
#pragma unroll
    for (int nt = 0; nt < Dh / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) dk[nt][e] = dv[nt][e] = 0.f;

    const int query_hi = attention_backward_last_query(own.start + own.count - 1, a.window, own.seq.length);
    for (int head = kv_head * group; head < (kv_head + 1) * group; ++head)
        for (int q0 = own.start; q0 <= query_hi; q0 += TILE)
        {
            const int q_count = min(TILE, query_hi + 1 - q0);
            const int first = own.seq.token_offset + q0;
            __syncthreads();   // the previous tile's Q, dY, lse, D are no longer read
            attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.q), first, q_count, own.q_stride, head * Dh, sm.walk[0]);
            attention_backward_mma_stage<Dh>(static_cast<const bf16*>(a.dy), first, q_count, own.q_stride, head * Dh, sm.walk[1]);
            attention_backward_load_row_terms<TILE>(a, head, first, q_count, sm.lse, sm.d);
            __syncthreads();
            const bool masked = attention_backward_mma_masked(q0, q_count, own.start, own.count, a.window);
#pragma unroll 1
            for (int w0 = 0; w0 < TILE; w0 += 8 * NT)
            {
                float s[NT][4], dp[NT][4];
                attention_backward_mma_scores<Dh, NT>(sm, row0, w0, s, dp);
                attention_backward_mma_softmax<false, NT>(s, dp, sm.lse, sm.d, row0, w0, masked, q0, q_count, own.start, own.count, a.window, a.scale);
                attention_backward_mma_accumulate<Dh, NT, true>(s, w0, sm.walk[1], dv);    // Pᵀ · dY
                attention_backward_mma_accumulate<Dh, NT, true>(dp, w0, sm.walk[0], dk);   // dSᵀ · Q
            }
        }
    attention_backward_mma_store<Dh>(dk, a.scale, static_cast<bf16*>(a.dk), own.first, row0, own.count, own.kv_stride, kv_head * Dh);
    attention_backward_mma_store<Dh>(dv, 1.f, static_cast<bf16*>(a.dv), own.first, row0, own.count, own.kv_stride, kv_head * Dh);
}

// Entry points (the launch contract of AttentionBackwardKernel.cs): block 128 threads; dq grid (ceil(max length / BQ),
// H, B), dkdv grid (ceil(max length / BK), Hkv, B). fp32 tiles: 32 × 32 up to head dim 64, 16 × 16 at 128, which keeps
// them under the 48 KiB of static shared memory; bf16 tiles: 64 × 64 with AttentionBackwardMmaSmem<Dh> as dynamic
// shared memory (70 KiB at head dim 128: the launcher opts in). Arguments one by one (a launch passes ≤ 8 bytes each).
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
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dq<8>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd8(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dkdv<8>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dq<16>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd16(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dkdv<16>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dq<32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd32(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dkdv<32>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dq<64>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd64(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dkdv<64>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_bf16_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dq<128>(ATTENTION_BACKWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_hd128(ATTENTION_BACKWARD_PARAMS) { attention_backward_mma_dkdv<128>(ATTENTION_BACKWARD_ARGS); }
