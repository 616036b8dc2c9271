// ldmatrix.cuh: shared-memory fragment loads for the tensor cores and asynchronous global-to-shared copies, behind
// project helpers so that the emulator can supply warp-collective twins with the PTX ISA's exact semantics.
//
// ldmatrix_x4 (PTX "ldmatrix.sync.aligned.m8n8.x4.shared.b16"), called by all 32 lanes of a warp together:
//   four 8x8 matrices of 16-bit elements; lane 8·i + r supplies the address of row r of matrix i (16 contiguous,
//   16-byte aligned bytes in shared memory). With lane = 4·g + t (g = lane / 4, t = lane % 4), lane receives
//       d[i] = M_i[g][2t] | M_i[g][2t+1] << 16                    (plain)
//       d[i] = M_i[2t][g] | M_i[2t+1][g] << 16                    (.trans: the fragment of the transposed matrix)
//   which is the layout of an mma.m16n8k16 A fragment (four matrices of a 16x16 tile) or of two B fragments
//   (common/mma.cuh), so rows stored in shared memory become operands without a shuffle or a scalar load each.
// cp_async_16 (PTX "cp.async.cg.shared.global", sm_80+): a 16-byte copy from global to shared memory that completes
//   asynchronously; cp_async_commit closes a group of them, cp_async_wait<N> waits until at most N groups are still in
//   flight (the thread's own copies only: a __syncthreads must follow before other threads read them).
#ifndef MISTRAL_LDMATRIX_CUH
#define MISTRAL_LDMATRIX_CUH

#ifdef __CUDA_EMU__

// The emulated twins. ldmatrix: every lane learns the row addresses it needs from the lanes that supply them
// (shuffles of the pointers: the emulator's shared memory is ordinary memory) and reads its 32-bit words itself.
__device__ __forceinline__ void ldmatrix_x4(unsigned int (&d)[4], const void* row) {
    const unsigned int all = 0xffffffffu;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const unsigned char* mine = static_cast<const unsigned char*>(row);
    for (int i = 0; i < 4; ++i) {
        const unsigned char* r = __shfl_sync(all, mine, 8 * i + g);   // row g of matrix i
        unsigned int word;
        std::memcpy(&word, r + 4 * t, 4);
        d[i] = word;
    }
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned int (&d)[4], const void* row) {
    const unsigned int all = 0xffffffffu;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const unsigned char* mine = static_cast<const unsigned char*>(row);
    for (int i = 0; i < 4; ++i) {
        const unsigned char* r0 = __shfl_sync(all, mine, 8 * i + 2 * t);       // rows 2t, 2t+1 of matrix i
        const unsigned char* r1 = __shfl_sync(all, mine, 8 * i + 2 * t + 1);
        unsigned short lo, hi;
        std::memcpy(&lo, r0 + 2 * g, 2);   // column g
        std::memcpy(&hi, r1 + 2 * g, 2);
        d[i] = (unsigned int)lo | ((unsigned int)hi << 16);
    }
}

// A synchronous copy: the data is there when the call returns, which a correct pipeline cannot tell from "after the
// wait" (reads of it still sit behind cp_async_wait and a __syncthreads).
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src) {
    *static_cast<uint4*>(shared_dst) = *static_cast<const uint4*>(global_src);   // uint4: the alignment is checked
}
__device__ __forceinline__ void cp_async_commit() {}
template <int N> __device__ __forceinline__ void cp_async_wait() {}

#else

// The 32-bit shared-window address PTX's .shared state space takes (what __cvta_generic_to_shared returns).
__device__ __forceinline__ unsigned int shared_address(const void* p) {
    unsigned int address;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(address) : "l"(p));
    return address;
}

__device__ __forceinline__ void ldmatrix_x4(unsigned int (&d)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
                 : "r"(shared_address(row)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned int (&d)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
                 : "r"(shared_address(row)));
}

#if __CUDA_ARCH__ >= 800
// .cg: cached in L2 only, the tile is read once per block from shared memory anyway.
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(shared_address(shared_dst)), "l"(global_src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
#else
// Before sm_80 (a PTX build for an older target): a plain copy, complete when it returns.
__device__ __forceinline__ void cp_async_16(void* shared_dst, const void* global_src) {
    *static_cast<uint4*>(shared_dst) = *static_cast<const uint4*>(global_src);
}
__device__ __forceinline__ void cp_async_commit() {}
template <int N> __device__ __forceinline__ void cp_async_wait() {}
#endif

#endif
#endif  // MISTRAL_LDMATRIX_CUH
