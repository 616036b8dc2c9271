// Sliding-window attention for decode: one new query per sequence over its rolling cache (flash-decoding).
// Legend: B = sequences (one token each), H = query heads, Hkv = kv heads, G = H / Hkv, Dh = head dim, W = window,
//         S = cache slots, N = keys per split (= threads per block).
//
// A single query per sequence cannot fill a GPU with one block per head, so the visible keys are split into chunks of
// N: block (split, kv head, sequence) scores its N keys for all G query heads of the kv head (K/V read once per group),
// keeps an unnormalised partial output with its own max and sum, and attention_decode_combine merges the splits with
// the usual rescaling. The grid depends only on S and W (splits = ceil(min(S, W - 1) + 1, N)), never on the current
// positions, so a CUDA graph of the decode step replays unchanged from token to token; the positions are read from
// the sequence table on the device. Keys: the min(p, S, W - 1) cached positions before p in time order (slot
// position % S), then the token itself from this step's k/v. Mirrors IOps.AttentionForward with every length 1.
#include "common/common.cuh"
#include "attention_common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// The split kernels keep no per-head register arrays across the softmax (scores and maxima are re-read from shared
// memory): 32 registers, no stack, no spills — but for bf16 hd8 (one 16-byte chunk per key row), where ptxas spills
// 16 bytes through a 16-byte frame (debt; no model has Dh = 8, it is a test shape).
// budget attention_decode_combine_*: regs<=32 smem<=0
// budget attention_decode_advance: regs<=16 smem<=0
// budget attention_decode_split_bf16_hd8: regs<=32 smem<=5632 stack<=16 spill<=16
// budget attention_decode_split_*_hd128: regs<=32 smem<=9472
// budget attention_decode_split_*_hd64: regs<=32 smem<=7424
// budget attention_decode_split_*_hd32: regs<=32 smem<=6400
// budget attention_decode_split_*_hd16: regs<=32 smem<=5888
// budget attention_decode_split_f32_hd8: regs<=32 smem<=5632

#define ATTENTION_DECODE_KEYS_PER_SPLIT 128
#define ATTENTION_DECODE_MAX_GROUP 8

struct AttentionDecodeArgs
{
    const void* q;                        // [B, H·Dh]
    const void* k;                        // [B, Hkv·Dh] this step's keys, rotated
    const void* v;                        // [B, Hkv·Dh]
    const void* cache_k;                  // [rows, S, Hkv·Dh] or null
    const void* cache_v;                  // [rows, S, Hkv·Dh] or null
    const AttentionSequence* sequences;   // [B], every length 1
    float* partial_out;                   // [B, H, splits, Dh] unnormalised Σ p·v of each split
    float* partial_max;                   // [B, H, splits] max score of each split (log2 domain), -inf when empty
    float* partial_sum;                   // [B, H, splits] Σ p of each split
    void* y;                              // [B, H·Dh]
    float* lse;                           // [H, B] or null
    int total_tokens;                     // B
    int n_heads;
    int n_kv_heads;
    int head_dim;
    int window;
    int slots;
    int splits;
    float scale;
};

// Visible keys of sequence seq: n_cached positions from the cache, then the token itself.
__device__ __forceinline__ int attention_decode_cached_keys(const AttentionDecodeArgs& a, const AttentionSequence& seq)
{
    return a.cache_k == nullptr ? 0 : min(min(seq.start_position, a.slots), a.window - 1);
}

// Row of key (or value) i of a split's sequence, 0-based over its visible keys: cached position p - n_cached + i at
// slot position % S, or the token itself from this step's k/v.
template <typename T, int Dh>
__device__ __forceinline__ const T* attention_decode_row(const AttentionDecodeArgs& a, const AttentionSequence& seq, int n_cached,
                                                         int kv_head, int i, const void* cache, const void* current)
{
    const long long kv_stride = (long long)a.n_kv_heads * Dh;
    if (i < n_cached)
    {
        const int kpos = seq.start_position - n_cached + i;
        return static_cast<const T*>(cache) + ((long long)seq.cache_row * a.slots + kpos % a.slots) * kv_stride + (long long)kv_head * Dh;
    }
    return static_cast<const T*>(current) + (long long)seq.token_offset * kv_stride + (long long)kv_head * Dh;
}

template <typename T, int Dh>
__device__ __forceinline__ void attention_decode_split(const AttentionDecodeArgs& a)
{
    constexpr int N = ATTENTION_DECODE_KEYS_PER_SPLIT;
    constexpr int MAXG = ATTENTION_DECODE_MAX_GROUP;
    constexpr int VEC = 16 / sizeof(T);
    __shared__ float qs[MAXG][Dh];          // the group's queries, pre-scaled into the log2 domain
    __shared__ float ps[MAXG][N];           // p of every (query head, key) of this split
    __shared__ float reduce[2][MAXG][N / 32];   // per-warp partial max, sum
    __shared__ const T* vrows[N];           // value row of every key of this split

    const int split = blockIdx.x, kv_head = blockIdx.y, b = blockIdx.z, tid = threadIdx.x;
    const int warp = tid >> 5, lane = tid & 31;
    const unsigned int all = 0xffffffffu;
    const AttentionSequence seq = a.sequences[b];
    const int group = a.n_heads / a.n_kv_heads;
    const int n_cached = attention_decode_cached_keys(a, seq);
    const int key0 = split * N;
    const int n_here = max(0, min(N, n_cached + 1 - key0));
    const long long part = ((long long)b * a.n_heads + (long long)kv_head * group) * a.splits + split;   // (b, first head of group, split)

    if (n_here == 0)   // a split past this sequence's keys: contributes nothing to the combine
    {
        for (int idx = tid; idx < group * Dh; idx += blockDim.x)
            a.partial_out[(part + (long long)(idx / Dh) * a.splits) * Dh + idx % Dh] = 0.f;
        if (tid < group)
        {
            a.partial_max[part + (long long)tid * a.splits] = NEG_INF;
            a.partial_sum[part + (long long)tid * a.splits] = 0.f;
        }
        return;
    }

    // Lanes across the head dim: L lanes (one 16-byte chunk each) cover one key row, so a warp reads 32 / L whole
    // rows per request (whole sectors), and the L partial dots of a row meet by shuffles. qs is stored chunk-major
    // (element e of chunk c at e · C + c): the L lanes of a row read consecutive words, conflict-free.
    constexpr int C = Dh / VEC;            // 16-byte chunks per key row (1 .. 32)
    constexpr int KPP = N / C;             // keys per block pass
    const int c = tid % C;
    const T* q = static_cast<const T*>(a.q) + (long long)seq.token_offset * a.n_heads * Dh + (long long)kv_head * group * Dh;
    const float scale_log2 = a.scale * ATTENTION_LOG2E;
    for (int idx = tid; idx < group * Dh; idx += blockDim.x)
    {
        const int d = idx % Dh;
        qs[idx / Dh][(d % VEC) * C + d / VEC] = to_f32(q[idx]) * scale_log2;
    }
    vrows[tid] = tid < n_here ? attention_decode_row<T, Dh>(a, seq, n_cached, kv_head, key0 + tid, a.cache_v, a.v) : nullptr;
    __syncthreads();

    // Scores into ps (each thread later reads its own key's and overwrites it with p).
    for (int k0 = 0; k0 < n_here; k0 += KPP)   // uniform over the block: every lane of a row takes every shuffle
    {
        const int k = k0 + tid / C;
        float part[MAXG];
#pragma unroll
        for (int gq = 0; gq < MAXG; ++gq) part[gq] = 0.f;
        if (k < n_here)
        {
            // Widened in registers (load16 shifts the words apart): no address of a local is taken, so nothing
            // goes to the stack.
            float kf[VEC];
            load16(attention_decode_row<T, Dh>(a, seq, n_cached, kv_head, key0 + k, a.cache_k, a.k) + c * VEC, kf);
#pragma unroll
            for (int e = 0; e < VEC; ++e)
            {
#pragma unroll
                for (int gq = 0; gq < MAXG; ++gq)
                    if (gq < group) part[gq] = fmaf(qs[gq][e * C + c], kf[e], part[gq]);
            }
        }
#pragma unroll
        for (int gq = 0; gq < MAXG; ++gq)
        {
            if (gq >= group) break;
            float sum = part[gq];
#pragma unroll
            for (int o = C / 2; o > 0; o >>= 1) sum += __shfl_xor_sync(all, sum, o);
            if (c == 0 && k < n_here) ps[gq][k] = sum;
        }
    }
    __syncthreads();

    // Block max, then p and the block sum, per query head. Scores and maxima are re-read from shared memory rather
    // than held in per-head register arrays (which made ptxas spill): thread tid owns ps[*][tid].
#pragma unroll
    for (int gq = 0; gq < MAXG; ++gq)
    {
        if (gq >= group) break;
        float mx = tid < n_here ? ps[gq][tid] : NEG_INF;
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(all, mx, o));
        if (lane == 0) reduce[0][gq][warp] = mx;
    }
    __syncthreads();
#pragma unroll
    for (int gq = 0; gq < MAXG; ++gq)
    {
        if (gq >= group) break;
        float block_max = NEG_INF;   // the block holds at least one key: finite
        for (int w = 0; w < N / 32; ++w) block_max = fmaxf(block_max, reduce[0][gq][w]);
        const float p = tid < n_here ? exp2f(ps[gq][tid] - block_max) : 0.f;
        ps[gq][tid] = p;
        float sum = p;
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(all, sum, o);
        if (lane == 0) reduce[1][gq][warp] = sum;
    }
    __syncthreads();

    if (tid < group)
    {
        float mx = NEG_INF, sum = 0.f;
        for (int w = 0; w < N / 32; ++w)
        {
            mx = fmaxf(mx, reduce[0][tid][w]);
            sum += reduce[1][tid][w];
        }
        a.partial_max[part + (long long)tid * a.splits] = mx;
        a.partial_sum[part + (long long)tid * a.splits] = sum;
    }
    // Σ p·v: consecutive threads take consecutive features of one head, so every value row is read coalesced.
    for (int idx = tid; idx < group * Dh; idx += blockDim.x)
    {
        const int gq = idx / Dh, d = idx % Dh;
        float acc = 0.f;
        for (int j = 0; j < n_here; ++j) acc = fmaf(ps[gq][j], to_f32(vrows[j][d]), acc);
        a.partial_out[(part + (long long)gq * a.splits) * Dh + d] = acc;
    }
}

// Merges the splits of one (head, sequence): y = Σ_s 2^(m_s - m) · O_s / Σ_s 2^(m_s - m) · l_s.
template <typename T>
__device__ __forceinline__ void attention_decode_combine(const AttentionDecodeArgs& a)
{
    const int head = blockIdx.x, b = blockIdx.y;
    const AttentionSequence seq = a.sequences[b];
    const long long base = ((long long)b * a.n_heads + head) * a.splits;
    float m = NEG_INF;
    for (int s = 0; s < a.splits; ++s) m = fmaxf(m, a.partial_max[base + s]);
    float total = 0.f;
    for (int s = 0; s < a.splits; ++s) total += a.partial_sum[base + s] * exp2f(a.partial_max[base + s] - m);
    const float inv = 1.f / total;
    T* y = static_cast<T*>(a.y) + (long long)seq.token_offset * a.n_heads * a.head_dim + (long long)head * a.head_dim;
    for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x)
    {
        float acc = 0.f;
        for (int s = 0; s < a.splits; ++s) acc += a.partial_out[(base + s) * a.head_dim + d] * exp2f(a.partial_max[base + s] - m);
        y[d] = from_f32<T>(acc * inv);
    }
    if (a.lse != nullptr && threadIdx.x == 0) a.lse[(long long)head * a.total_tokens + seq.token_offset] = (m + log2f(total)) * ATTENTION_LN2;
}

// Entry points (the launch contract of AttentionDecodeKernel.cs), arguments one by one, inputs · scalars · outputs.
// Split: attention_decode_split_{f32|bf16}_hd{16|32|64|128}, grid (splits, Hkv, B), block 128 (= keys per split).
#define ATTENTION_DECODE_SPLIT_PARAMS \
    const void* q, const void* k, const void* v, const void* cache_k, const void* cache_v, const AttentionSequence* sequences, \
    int n_heads, int n_kv_heads, int window, int slots, int splits, float scale, \
    float* partial_out, float* partial_max, float* partial_sum
#define ATTENTION_DECODE_SPLIT_ARGS \
    AttentionDecodeArgs{q, k, v, cache_k, cache_v, sequences, partial_out, partial_max, partial_sum, nullptr, nullptr, 0, \
                        n_heads, n_kv_heads, 0, window, slots, splits, scale}

extern "C" __global__ void __launch_bounds__(128) attention_decode_split_f32_hd8(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<float, 8>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_f32_hd16(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<float, 16>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_f32_hd32(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<float, 32>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_f32_hd64(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<float, 64>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_f32_hd128(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<float, 128>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_bf16_hd8(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<bf16, 8>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_bf16_hd16(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<bf16, 16>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_bf16_hd32(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<bf16, 32>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_bf16_hd64(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<bf16, 64>(ATTENTION_DECODE_SPLIT_ARGS); }
extern "C" __global__ void __launch_bounds__(128) attention_decode_split_bf16_hd128(ATTENTION_DECODE_SPLIT_PARAMS) { attention_decode_split<bf16, 128>(ATTENTION_DECODE_SPLIT_ARGS); }

// Combine: attention_decode_combine_{f32|bf16}, grid (H, B), block 128.
#define ATTENTION_DECODE_COMBINE_PARAMS \
    const float* partial_out, const float* partial_max, const float* partial_sum, const AttentionSequence* sequences, \
    int total_tokens, int n_heads, int head_dim, int splits, void* y, float* lse
#define ATTENTION_DECODE_COMBINE_ARGS \
    AttentionDecodeArgs{nullptr, nullptr, nullptr, nullptr, nullptr, sequences, const_cast<float*>(partial_out), \
                        const_cast<float*>(partial_max), const_cast<float*>(partial_sum), y, lse, total_tokens, n_heads, 0, head_dim, 0, 0, splits, 0.f}

extern "C" __global__ void attention_decode_combine_f32(ATTENTION_DECODE_COMBINE_PARAMS) { attention_decode_combine<float>(ATTENTION_DECODE_COMBINE_ARGS); }
extern "C" __global__ void attention_decode_combine_bf16(ATTENTION_DECODE_COMBINE_PARAMS) { attention_decode_combine<bf16>(ATTENTION_DECODE_COMBINE_ARGS); }

// Advance: attention_decode_advance, grid ceil(B / 128), block 128. Moves a decode step's inputs one token on, after
// the step and in stream order, so the next step needs no host copy: sequence b's start position (the position of its
// new token) and positions[b] (what RoPE reads) both + 1. The argmax of the step writes the next token ids itself.
extern "C" __global__ void attention_decode_advance(AttentionSequence* sequences, int count, int* positions) {
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= count) return;
    sequences[b].start_position += 1;
    positions[b] += 1;
}
