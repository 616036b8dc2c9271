// Sliding-window causal attention, prefill (any number of queries per sequence): flash-attention style.
// Legend: T = packed tokens, B = sequences, H = query heads, Hkv = kv heads, Dh = head dim, W = window, S = cache slots,
//         BQ = queries per block (16 per warp), BK = keys per shared-memory tile.
//
// One block = BQ queries of one head of one sequence. Each warp owns 16 query rows. Q, and K and V one BK-key tile at
// a time, go through shared memory by cp.async (K/V double-buffered: the next tile's copy overlaps this tile's math),
// row-major; S = Q·Kᵀ and O += P·V are warp-tile products (attention_tile.cuh) whose bf16 operands come from ldmatrix
// (V's B fragments by ldmatrix.trans, so V is never transposed in memory), and the softmax is online in fp32 (running
// max and sum per row, base-2 exponentials on scores pre-scaled by log2 e), so the [T, T] score matrix never exists.
// The key range of a block is the union of what its queries may see: positions max(oldest cached, first query - W + 1)
// ... last query, where positions before the chunk come from the rolling cache (slot = position % S,
// attention_common.cuh) and the rest from the chunk's own k/v. Within it a warp skips tiles none of its rows sees and
// masks only tiles that cross the diagonal, the window edge or the last key for one of its rows.
// GQA: query head h reads kv head h / (H / Hkv); K/V are never repeated in memory.
// Mirrors Mistral.Kernels.Ops.Reference.AttentionRef (IOps.AttentionForward). Design and figures: kernels/README.md.
#include "common/common.cuh"
#include "attention_common.cuh"
#include "attention_tile.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes (none: the tiles are dynamic shared memory, AttentionKernel.SharedBytes),
// stack frame and spill bytes (0). Above 128 registers: fp32 hd128 only (issue 12 asks for ≤ 128 in bf16).
// budget attention_prefill_forward_bf16_hd128: regs<=128 smem<=0
// budget attention_prefill_forward_bf16_hd64: regs<=128 smem<=0
// budget attention_prefill_forward_bf16_hd32: regs<=96 smem<=0
// budget attention_prefill_forward_bf16_hd16: regs<=72 smem<=0
// budget attention_prefill_forward_bf16_hd8: regs<=72 smem<=0
// budget attention_prefill_forward_f32_hd128: regs<=152 smem<=0
// budget attention_prefill_forward_f32_hd64: regs<=112 smem<=0
// budget attention_prefill_forward_f32_hd32: regs<=112 smem<=0
// budget attention_prefill_forward_f32_hd16: regs<=80 smem<=0
// budget attention_prefill_forward_f32_hd8: regs<=72 smem<=0

struct AttentionPrefillArgs
{
    const void* q;                        // [T, H·Dh]
    const void* k;                        // [T, Hkv·Dh] this chunk's keys, rotated
    const void* v;                        // [T, Hkv·Dh]
    const void* cache_k;                  // [rows, S, Hkv·Dh] or null: positions before the chunk
    const void* cache_v;                  // [rows, S, Hkv·Dh] or null
    const AttentionSequence* sequences;   // [B]
    void* y;                              // [T, H·Dh]
    float* lse;                           // [H, T] natural-log log-sum-exp of the scaled scores, or null
    int total_tokens;
    int n_heads;
    int n_kv_heads;
    int window;                           // INT_MAX for plain causal
    int slots;                            // S (ignored without a cache)
    float scale;                          // 1 / sqrt(Dh) · score scale (AttentionConfig.Scale)
};

// The block's shared-memory layout, one dynamic allocation (AttentionKernel.SharedBytes mirrors BYTES):
//   q [BQ][QS] | k [2][BK][QS] | v [2][BK][VS], row-major, every row 16-byte aligned.
// bf16 strides are an odd number of 16-byte units, so the 8 rows one ldmatrix phase reads fall on 8 distinct groups
// of 4 banks. fp32 reads pairs (row g, column 2t) from q/k, conflict-free in each half-warp with a stride of 8 words
// mod 32, and single words (row 2t, column g) from v, conflict-free with 4 words mod 16.
template <typename T, int Dh, int Warps, int BK>
struct AttentionPrefillShape
{
    static constexpr int BQ = 16 * Warps;
    static constexpr int DK = Dh < 16 ? 16 : Dh;   // the k extent of Q·Kᵀ: one 16-wide mma step at least, zero past Dh
    static constexpr bool Bf16 = sizeof(T) == 2;
    static constexpr int QS = Bf16 ? ((DK / 8) | 1) * 8 : DK + 8;
    static constexpr int VS = Bf16 ? ((Dh / 8) | 1) * 8 : Dh + 4;
    static constexpr int VEC = 16 / sizeof(T);    // elements per 16-byte chunk
    static constexpr int BYTES = (BQ * QS + 2 * BK * QS + 2 * BK * VS) * (int)sizeof(T);
    static_assert(BYTES <= 227 * 1024, "a block's shared memory is at most 227 KiB (sm_90 opt-in)");
    // bf16 up to hd64 keeps the warp's Q fragments in registers; hd128 (and fp32, whose pairs are twice the size)
    // re-reads them from shared memory every tile: that keeps bf16 hd128 at <= 128 registers and fp32 from spilling.
    static constexpr bool QInRegisters = Bf16 && Dh <= 64;
};

// Starts the copies of keys/values [tile, tile + BK) into ks/vs (cp.async, 16 bytes per thread per step); rows
// past key_hi are zeroed instead (their p is 0, and 0 · NaN would poison O).
template <typename T, int Dh, int Warps, int BK>
__device__ __forceinline__ void attention_prefill_load_tile(const AttentionSequence& seq, const T* k, const T* v, const T* cache_k,
                                                            const T* cache_v, int slots, int kv_stride, int kv_head, int tile,
                                                            int key_hi, T* ks, T* vs)
{
    typedef AttentionPrefillShape<T, Dh, Warps, BK> S;
    for (int idx = threadIdx.x; idx < BK * (Dh / S::VEC); idx += blockDim.x)
    {
        const int row = idx / (Dh / S::VEC), c = (idx % (Dh / S::VEC)) * S::VEC;
        const int kpos = tile + row;
        T* kd = ks + row * S::QS + c;
        T* vd = vs + row * S::VS + c;
        if (kpos <= key_hi)
        {
            bool from_cache;
            const long long off = attention_kv_row_offset(seq, kpos, slots, kv_stride, kv_head, Dh, from_cache) + c;
            cp_async_16(kd, (from_cache ? cache_k : k) + off);
            cp_async_16(vd, (from_cache ? cache_v : v) + off);
        }
        else
        {
            *reinterpret_cast<uint4*>(kd) = make_uint4(0u, 0u, 0u, 0u);
            *reinterpret_cast<uint4*>(vd) = make_uint4(0u, 0u, 0u, 0u);
        }
    }
}

// c0 += a · B[:, n .. n+7], c1 += a · B[:, n+8 .. n+15] with both B fragments from one load: B's columns stored as the
// tile's rows (K, at rows n, column k) or B stored row-major (V, at rows k, column n: read transposed).
template <typename T, bool RowMajorB>
__device__ __forceinline__ void attention_mma_x2(float (&c0)[4], float (&c1)[4], const typename WarpTile<T>::Pair (&a)[4], const T* tile,
                                                 int stride, int row, int col)
{
    typename WarpTile<T>::Pair b0[2], b1[2];
    if constexpr (RowMajorB) TileLoad<T>::b_cols(b0, b1, tile, stride, row, col);
    else TileLoad<T>::b_rows(b0, b1, tile, stride, row, col);
    WarpTile<T>::mma(c0, a, b0);
    WarpTile<T>::mma(c1, a, b1);
}

// P's k-step kk (keys 16·kk .. 16·kk+15) as an A fragment: the C fragments of n-tiles 2kk and 2kk+1 side by side.
template <typename T, int N>
__device__ __forceinline__ void attention_p_fragment(typename WarpTile<T>::Pair (&p)[4], const float (&s)[N][4], int kk)
{
    p[0] = WarpTile<T>::pack(s[2 * kk][0], s[2 * kk][1]);
    p[1] = WarpTile<T>::pack(s[2 * kk][2], s[2 * kk][3]);
    p[2] = WarpTile<T>::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
    p[3] = WarpTile<T>::pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
}

template <typename T, int Dh, int Warps, int BK>
__device__ __forceinline__ void attention_prefill_forward(const AttentionPrefillArgs& a)
{
    typedef AttentionPrefillShape<T, Dh, Warps, BK> S;
    typedef WarpTile<T> Tile;
    typedef TileLoad<T> Load;
    typedef typename Tile::Pair Pair;
    constexpr int BQ = S::BQ, DK = S::DK, QS = S::QS, VS = S::VS;
    extern __shared__ __align__(16) unsigned char attention_prefill_smem[];
    T* qs = reinterpret_cast<T*>(attention_prefill_smem);
    T* const ks0 = qs + BQ * QS;
    T* const vs0 = ks0 + 2 * BK * QS;

    const AttentionSequence seq = a.sequences[blockIdx.z];
    const int q_begin = blockIdx.x * BQ;
    if (q_begin >= seq.length) return;    // blocks past a short sequence of a ragged batch
    const int head = blockIdx.y;
    const int kv_head = head / (a.n_heads / a.n_kv_heads);
    const int q_stride = a.n_heads * Dh, kv_stride = a.n_kv_heads * Dh;
    const bool has_cache = a.cache_k != nullptr;
    const T* q = static_cast<const T*>(a.q);
    const T* k = static_cast<const T*>(a.k);
    const T* v = static_cast<const T*>(a.v);
    const T* cache_k = static_cast<const T*>(a.cache_k);
    const T* cache_v = static_cast<const T*>(a.cache_v);

    const int last_query = min(seq.length, q_begin + BQ) - 1;
    const int key_lo = max(attention_oldest_cached(seq.start_position, a.slots, has_cache),
                           seq.start_position + q_begin - a.window + 1);
    const int key_hi = seq.start_position + last_query;

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int row0 = q_begin + 16 * warp + g, row1 = row0 + 8;   // this thread's two query rows (chunk-relative)
    const int pos0 = seq.start_position + row0, pos1 = pos0 + 8;
    const bool in0 = row0 < seq.length, in1 = row1 < seq.length;
    // The warp's rows that exist: a tile is skipped by the warp when none of them sees any of its keys, and masked
    // only when it crosses the diagonal, the window edge or key_hi for one of them.
    const int warp_first = seq.start_position + q_begin + 16 * warp;
    const int warp_last = seq.start_position + min(q_begin + 16 * warp + 15, last_query);
    const bool warp_live = q_begin + 16 * warp <= last_query;

    // Group 0: the Q tile (zero past the chunk; head dim 8: zero columns [Dh, DK) of q and of both key buffers).
    if constexpr (DK > Dh)
        for (int idx = threadIdx.x; idx < (BQ + 2 * BK) * (DK - Dh); idx += blockDim.x)
            qs[(idx / (DK - Dh)) * QS + Dh + idx % (DK - Dh)] = from_f32<T>(0.f);   // q and k rows are contiguous
    for (int idx = threadIdx.x; idx < BQ * (Dh / S::VEC); idx += blockDim.x)
    {
        const int row = idx / (Dh / S::VEC), c = (idx % (Dh / S::VEC)) * S::VEC;
        T* dst = qs + row * QS + c;
        if (q_begin + row < seq.length) cp_async_16(dst, q + (long long)(seq.token_offset + q_begin + row) * q_stride + head * Dh + c);
        else *reinterpret_cast<uint4*>(dst) = make_uint4(0u, 0u, 0u, 0u);
    }
    cp_async_commit();
    // Group 1: the first key/value tile.
    attention_prefill_load_tile<T, Dh, Warps, BK>(seq, k, v, cache_k, cache_v, a.slots, kv_stride, kv_head, key_lo, key_hi, ks0, vs0);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    Pair qf[S::QInRegisters ? DK / 16 : 1][4];
    if constexpr (S::QInRegisters)
    {
#pragma unroll
        for (int kk = 0; kk < DK / 16; ++kk) Load::a(qf[kk], qs, QS, 16 * warp, kk * 16);
    }

    float o[Dh / 8][4];   // O accumulator as C fragments: [Dh/8 column tiles][rows g, g+8 × cols 2t, 2t+1]
#pragma unroll
    for (int dt = 0; dt < Dh / 8; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
    float m0 = NEG_INF, m1 = NEG_INF;   // running max (log2 domain) of rows g, g+8
    float l0 = 0.f, l1 = 0.f;           // this thread's share of the running sums
    const float scale_log2 = a.scale * ATTENTION_LOG2E;
    const unsigned int all = 0xffffffffu;

    int buf = 0;
    for (int tile = key_lo; tile <= key_hi; tile += BK, buf ^= 1)
    {
        // Prefetch the next tile into the other buffer (every warp left it at the barrier ending the last round),
        // then wait for this one: the copy of tile i+1 overlaps the math of tile i.
        if (tile + BK <= key_hi)
            attention_prefill_load_tile<T, Dh, Warps, BK>(seq, k, v, cache_k, cache_v, a.slots, kv_stride, kv_head, tile + BK, key_hi,
                                                          ks0 + (buf ^ 1) * BK * QS, vs0 + (buf ^ 1) * BK * VS);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        const T* ks = ks0 + buf * BK * QS;
        const T* vs = vs0 + buf * BK * VS;
        const int tile_last = tile + BK - 1;

        if (warp_live && tile <= warp_last && warp_first - tile_last < a.window)
        {
            // S = Q·Kᵀ: [16 rows × BK keys] as C fragments
            float s[BK / 8][4];
#pragma unroll
            for (int nt = 0; nt < BK / 8; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < DK / 16; ++kk)
            {
                Pair af[4];
                if constexpr (S::QInRegisters)
                {
                    for (int e = 0; e < 4; ++e) af[e] = qf[kk][e];
                }
                else
                {
                    Load::a(af, qs, QS, 16 * warp, kk * 16);
                }
#pragma unroll
                for (int nt = 0; nt < BK / 8; nt += 2) attention_mma_x2<T, false>(s[nt], s[nt + 1], af, ks, QS, nt * 8, kk * 16);
            }

            // Into the log2 domain; the mask only where the tile crosses an edge for one of the warp's rows.
            const bool masked = tile_last > key_hi || tile_last > warp_first || warp_last - tile >= a.window;
#pragma unroll
            for (int nt = 0; nt < BK / 8; ++nt)
#pragma unroll
                for (int e = 0; e < 4; ++e) s[nt][e] *= scale_log2;
            if (masked)
            {
#pragma unroll
                for (int nt = 0; nt < BK / 8; ++nt)
#pragma unroll
                    for (int e = 0; e < 2; ++e)
                    {
                        const int kpos = tile + nt * 8 + 2 * t + e;
                        const bool live = kpos <= key_hi;
                        if (!(live && attention_key_visible(pos0, kpos, a.window))) s[nt][e] = NEG_INF;
                        if (!(live && attention_key_visible(pos1, kpos, a.window))) s[nt][2 + e] = NEG_INF;
                    }
            }

            // The new row maxima (a row's 4 threads share it through shuffles).
            float tmax0 = NEG_INF, tmax1 = NEG_INF;
#pragma unroll
            for (int nt = 0; nt < BK / 8; ++nt)
            {
                tmax0 = fmaxf(tmax0, fmaxf(s[nt][0], s[nt][1]));
                tmax1 = fmaxf(tmax1, fmaxf(s[nt][2], s[nt][3]));
            }
            tmax0 = fmaxf(tmax0, __shfl_xor_sync(all, tmax0, 1));
            tmax0 = fmaxf(tmax0, __shfl_xor_sync(all, tmax0, 2));
            tmax1 = fmaxf(tmax1, __shfl_xor_sync(all, tmax1, 1));
            tmax1 = fmaxf(tmax1, __shfl_xor_sync(all, tmax1, 2));
            const float new0 = fmaxf(m0, tmax0), new1 = fmaxf(m1, tmax1);
            // A row that has seen no visible key yet keeps p = 0 and must not compute -inf - -inf.
            const float base0 = new0 == NEG_INF ? 0.f : new0;
            const float base1 = new1 == NEG_INF ? 0.f : new1;
            const float alpha0 = exp2f(m0 - base0), alpha1 = exp2f(m1 - base1);
            m0 = new0;
            m1 = new1;
            float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
            for (int nt = 0; nt < BK / 8; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                {
                    s[nt][e] = exp2f(s[nt][e] - base0);
                    s[nt][2 + e] = exp2f(s[nt][2 + e] - base1);
                    sum0 += s[nt][e];
                    sum1 += s[nt][2 + e];
                }
            l0 = l0 * alpha0 + sum0;
            l1 = l1 * alpha1 + sum1;
#pragma unroll
            for (int dt = 0; dt < Dh / 8; ++dt)
            {
                o[dt][0] *= alpha0;
                o[dt][1] *= alpha0;
                o[dt][2] *= alpha1;
                o[dt][3] *= alpha1;
            }

            // O += P·V: P's C fragments are re-read as A fragments (keys = the k dimension); V's B fragments come
            // from the row-major tile read transposed (16 keys × 16 features per load; 32 × 8 for head dim 8).
            if constexpr (Dh == 8)
            {
#pragma unroll
                for (int kk = 0; kk < BK / 16; kk += 2)
                {
                    Pair p0[4], p1[4], b0[2], b1[2];
                    attention_p_fragment<T>(p0, s, kk);
                    attention_p_fragment<T>(p1, s, kk + 1);
                    Load::b_cols_k32(b0, b1, vs, VS, kk * 16, 0);
                    Tile::mma(o[0], p0, b0);
                    Tile::mma(o[0], p1, b1);
                }
            }
            else
            {
#pragma unroll
                for (int kk = 0; kk < BK / 16; ++kk)
                {
                    Pair p[4];
                    attention_p_fragment<T>(p, s, kk);
#pragma unroll
                    for (int dt = 0; dt < Dh / 8; dt += 2) attention_mma_x2<T, true>(o[dt], o[dt + 1], p, vs, VS, kk * 16, dt * 8);
                }
            }
        }
        __syncthreads();   // every warp is done with this buffer before the next round refills it
    }

    // The four threads of a row hold partial sums of disjoint columns.
    l0 += __shfl_xor_sync(all, l0, 1);
    l0 += __shfl_xor_sync(all, l0, 2);
    l1 += __shfl_xor_sync(all, l1, 1);
    l1 += __shfl_xor_sync(all, l1, 2);

    // O leaves through the warp's own 16 rows of the Q tile (no other warp reads them, and the loop ended on a
    // barrier), so that every row goes out in 16-byte stores rather than in 4-byte (bf16) or 8-byte (fp32) pieces.
    // uint4 rather than AttentionChunk16: g++ copies that struct as four 4-byte accesses, which the emulator's
    // counters would score as a quarter of each sector.
    const float inv0 = 1.f / l0, inv1 = 1.f / l1;
    T* ow = qs + 16 * warp * QS;
#pragma unroll
    for (int dt = 0; dt < Dh / 8; ++dt)
    {
        Tile::store(ow + g * QS + dt * 8 + 2 * t, o[dt][0] * inv0, o[dt][1] * inv0);
        Tile::store(ow + (g + 8) * QS + dt * 8 + 2 * t, o[dt][2] * inv1, o[dt][3] * inv1);
    }
    __syncwarp();
    T* y = static_cast<T*>(a.y) + head * Dh;
    for (int idx = lane; idx < 16 * (Dh / S::VEC); idx += 32)
    {
        const int r = idx / (Dh / S::VEC), c = (idx % (Dh / S::VEC)) * S::VEC;
        const int row = q_begin + 16 * warp + r;
        if (row < seq.length)
            *reinterpret_cast<uint4*>(y + (long long)(seq.token_offset + row) * q_stride + c) = *reinterpret_cast<const uint4*>(ow + r * QS + c);
    }
    if (a.lse != nullptr && t == 0)
    {
        if (in0) a.lse[(long long)head * a.total_tokens + seq.token_offset + row0] = (m0 + log2f(l0)) * ATTENTION_LN2;
        if (in1) a.lse[(long long)head * a.total_tokens + seq.token_offset + row1] = (m1 + log2f(l1)) * ATTENTION_LN2;
    }
}

// Entry points (the launch contract of AttentionKernel.cs): grid (ceil(max length / 64), H, B), block 128.
// Arguments one by one, inputs · scalars · outputs, because a launch passes at most 8 bytes per argument.
// Dynamic shared memory: AttentionKernel.SharedBytes. bf16 tiles 64 keys, 32 at hd128 (≤ 128 registers); fp32 tiles 32.
#define ATTENTION_PREFILL_PARAMS \
    const void* q, const void* k, const void* v, const void* cache_k, const void* cache_v, const AttentionSequence* sequences, \
    int total_tokens, int n_heads, int n_kv_heads, int window, int slots, float scale, void* y, float* lse
#define ATTENTION_PREFILL_ARGS \
    AttentionPrefillArgs{q, k, v, cache_k, cache_v, sequences, y, lse, total_tokens, n_heads, n_kv_heads, window, slots, scale}

extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_f32_hd8(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<float, 8, 4, 32>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_f32_hd16(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<float, 16, 4, 32>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_f32_hd32(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<float, 32, 4, 32>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_f32_hd64(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<float, 64, 4, 32>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_f32_hd128(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<float, 128, 4, 32>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd8(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 8, 4, 64>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd16(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 16, 4, 64>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd32(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 32, 4, 64>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd64(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 64, 4, 64>(ATTENTION_PREFILL_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd128(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 128, 4, 32>(ATTENTION_PREFILL_ARGS); }
