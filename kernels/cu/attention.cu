// Sliding-window causal attention, prefill (any number of queries per sequence): flash-attention style.
// Legend: T = packed tokens, B = sequences, H = query heads, Hkv = kv heads, Dh = head dim, W = window, S = cache slots,
//         BQ = queries per block (16 per warp), BK = keys per shared-memory tile.
//
// One block = BQ queries of one head of one sequence. Each warp owns 16 query rows: Q stays in registers as mma A
// fragments, K and V go through shared memory one BK-key tile at a time, S = Q·Kᵀ and O += P·V are warp-tile products
// (attention_tile.cuh), and the softmax is online in fp32 (running max and sum per row, base-2 exponentials on scores
// pre-scaled by log2 e), so the [T, T] score matrix never exists. The key range of a block is the union of what its
// queries may see: positions max(oldest cached, first query - W + 1) ... last query, where positions before the chunk
// come from the rolling cache (slot = position % S, attention_common.cuh) and the rest from the chunk's own k/v.
// GQA: query head h reads kv head h / (H / Hkv); K/V are never repeated in memory.
// Mirrors Mistral.Kernels.Ops.Reference.AttentionRef (IOps.AttentionForward).
#include "common/common.cuh"
#include "common/mma.cuh"
#include "attention_common.cuh"
#include "attention_tile.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// Debt (issue 12): the fp32 head-dim-128 variant spills and every variant above hd32 needs more than 128 registers.
// budget attention_prefill_forward_bf16_hd128: regs<=184 smem<=35840
// budget attention_prefill_forward_bf16_hd64: regs<=128 smem<=18432
// budget attention_prefill_forward_bf16_hd32: regs<=88 smem<=9728
// budget attention_prefill_forward_bf16_hd16: regs<=72 smem<=5376
// budget attention_prefill_forward_f32_hd128: regs<=255 smem<=37888 stack<=712 spill<=1060
// budget attention_prefill_forward_f32_hd64: regs<=255 smem<=19456
// budget attention_prefill_forward_f32_hd32: regs<=168 smem<=10240
// budget attention_prefill_forward_f32_hd16: regs<=96 smem<=5632
// budget attention_prefill_forward_bf16_hd8: regs<=72 smem<=4224
// budget attention_prefill_forward_f32_hd8: regs<=80 smem<=4352

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

template <typename T, int Dh, int Warps, int BK>
__device__ __forceinline__ void attention_prefill_forward(const AttentionPrefillArgs& a)
{
    typedef WarpTile<T> Tile;
    typedef typename Tile::Pair Pair;
    constexpr int BQ = 16 * Warps;
    constexpr int VEC = 16 / sizeof(T);   // elements per 16-byte chunk
    constexpr int PAD = 8;                // row padding: spreads banks, keeps rows 16-byte aligned
    constexpr int DK = Dh < 16 ? 16 : Dh; // the k extent of Q·Kᵀ: one 16-wide mma step at least, zero-padded past Dh
    __align__(16) __shared__ T ks[BK][DK + PAD];   // the tile's keys, row = key
    __align__(16) __shared__ T vt[Dh][BK + PAD];   // the tile's values transposed, row = feature

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

    // Q as A fragments, zero past the chunk and past Dh (head dim 8: the upper half of the one k-step): [DK/16][4]
    Pair qf[DK / 16][4];
    {
        const T* q0 = q + (long long)(seq.token_offset + row0) * q_stride + head * Dh + 2 * t;
        const T* q1 = q0 + 8LL * q_stride;
#pragma unroll
        for (int kk = 0; kk < DK / 16; ++kk)
        {
            qf[kk][0] = in0 ? Tile::load(q0 + kk * 16) : Tile::zero();
            qf[kk][1] = in1 ? Tile::load(q1 + kk * 16) : Tile::zero();
            qf[kk][2] = in0 && Dh >= 16 ? Tile::load(q0 + kk * 16 + 8) : Tile::zero();
            qf[kk][3] = in1 && Dh >= 16 ? Tile::load(q1 + kk * 16 + 8) : Tile::zero();
        }
    }
    if constexpr (DK > Dh)   // the key columns [Dh, DK) stay zero: the tile loads below never write them
        for (int idx = threadIdx.x; idx < BK * (DK - Dh); idx += blockDim.x) ks[idx / (DK - Dh)][Dh + idx % (DK - Dh)] = from_f32<T>(0.f);

    float o[Dh / 8][4];   // O accumulator as C fragments: [Dh/8 column tiles][rows g, g+8 × cols 2t, 2t+1]
#pragma unroll
    for (int dt = 0; dt < Dh / 8; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
    float m0 = NEG_INF, m1 = NEG_INF;   // running max (log2 domain) of rows g, g+8
    float l0 = 0.f, l1 = 0.f;                               // this thread's share of the running sums
    const float scale_log2 = a.scale * ATTENTION_LOG2E;
    const unsigned int all = 0xffffffffu;

    for (int tile = key_lo; tile <= key_hi; tile += BK)
    {
        __syncthreads();   // every warp is done with the previous tile
        for (int idx = threadIdx.x; idx < BK * (Dh / VEC); idx += blockDim.x)
        {
            const int col = idx / (Dh / VEC), c = (idx % (Dh / VEC)) * VEC;
            const int kpos = tile + col;
            AttentionChunk16 kc = {}, vc = {};
            if (kpos <= key_hi)
            {
                bool from_cache;
                const long long off = attention_kv_row_offset(seq, kpos, a.slots, kv_stride, kv_head, Dh, from_cache) + c;
                kc = *reinterpret_cast<const AttentionChunk16*>((from_cache ? cache_k : k) + off);
                vc = *reinterpret_cast<const AttentionChunk16*>((from_cache ? cache_v : v) + off);
            }
            *reinterpret_cast<AttentionChunk16*>(&ks[col][c]) = kc;
            const T* ve = reinterpret_cast<const T*>(&vc);
#pragma unroll
            for (int e = 0; e < VEC; ++e) vt[c + e][col] = ve[e];
        }
        __syncthreads();

        // S = Q·Kᵀ: [16 rows × BK keys] as C fragments
        float s[BK / 8][4];
#pragma unroll
        for (int nt = 0; nt < BK / 8; ++nt)
        {
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < DK / 16; ++kk)
            {
                const Pair b[2] = {Tile::load(&ks[nt * 8 + g][kk * 16 + 2 * t]), Tile::load(&ks[nt * 8 + g][kk * 16 + 8 + 2 * t])};
                Tile::mma(s[nt], qf[kk], b);
            }
        }

        // scale into the log2 domain, mask, and the new row maxima (a row's 4 threads share it through shuffles)
        float tmax0 = NEG_INF, tmax1 = NEG_INF;
#pragma unroll
        for (int nt = 0; nt < BK / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 2; ++e)
            {
                const int kpos = tile + nt * 8 + 2 * t + e;
                const bool live = kpos <= key_hi;
                s[nt][e] = live && attention_key_visible(pos0, kpos, a.window) ? s[nt][e] * scale_log2 : NEG_INF;
                s[nt][2 + e] = live && attention_key_visible(pos1, kpos, a.window) ? s[nt][2 + e] * scale_log2 : NEG_INF;
                tmax0 = fmaxf(tmax0, s[nt][e]);
                tmax1 = fmaxf(tmax1, s[nt][2 + e]);
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

        // O += P·V: P's C fragments are re-read as A fragments (keys = the k dimension), V from the transposed tile
#pragma unroll
        for (int kk = 0; kk < BK / 16; ++kk)
        {
            const Pair p[4] = {Tile::pack(s[2 * kk][0], s[2 * kk][1]), Tile::pack(s[2 * kk][2], s[2 * kk][3]),
                               Tile::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]), Tile::pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int dt = 0; dt < Dh / 8; ++dt)
            {
                const Pair b[2] = {Tile::load(&vt[dt * 8 + g][kk * 16 + 2 * t]), Tile::load(&vt[dt * 8 + g][kk * 16 + 8 + 2 * t])};
                Tile::mma(o[dt], p, b);
            }
        }
    }

    // The four threads of a row hold partial sums of disjoint columns.
    l0 += __shfl_xor_sync(all, l0, 1);
    l0 += __shfl_xor_sync(all, l0, 2);
    l1 += __shfl_xor_sync(all, l1, 1);
    l1 += __shfl_xor_sync(all, l1, 2);

    T* y = static_cast<T*>(a.y) + head * Dh + 2 * t;
    if (in0)
    {
        const float inv = 1.f / l0;
        T* y0 = y + (long long)(seq.token_offset + row0) * q_stride;
#pragma unroll
        for (int dt = 0; dt < Dh / 8; ++dt) Tile::store(y0 + dt * 8, o[dt][0] * inv, o[dt][1] * inv);
        if (a.lse != nullptr && t == 0) a.lse[(long long)head * a.total_tokens + seq.token_offset + row0] = (m0 + log2f(l0)) * ATTENTION_LN2;
    }
    if (in1)
    {
        const float inv = 1.f / l1;
        T* y1 = y + (long long)(seq.token_offset + row1) * q_stride;
#pragma unroll
        for (int dt = 0; dt < Dh / 8; ++dt) Tile::store(y1 + dt * 8, o[dt][2] * inv, o[dt][3] * inv);
        if (a.lse != nullptr && t == 0) a.lse[(long long)head * a.total_tokens + seq.token_offset + row1] = (m1 + log2f(l1)) * ATTENTION_LN2;
    }
}

// Entry points (the launch contract of AttentionKernel.cs): grid (ceil(max length / 64), H, B), block 128.
// Arguments one by one, inputs · scalars · outputs, because a launch passes at most 8 bytes per argument.
// bf16 tiles 64 keys (tensor cores); fp32 tiles 32 keys to keep its float pairs in registers and under 48 KB of shared memory.
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
extern "C" __global__ void __launch_bounds__(128) attention_prefill_forward_bf16_hd128(ATTENTION_PREFILL_PARAMS) { attention_prefill_forward<bf16, 128, 4, 64>(ATTENTION_PREFILL_ARGS); }
