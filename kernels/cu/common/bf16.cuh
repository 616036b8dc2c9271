// bf16.cuh: bfloat16 storage and conversions without cuda_bf16.h (which the NVRTC packages do not ship).
// Conversions are bit-identical to Mistral.Kernels.Tensors.FloatBits: round to nearest, ties to even; NaN stays a
// quiet NaN with its sign. Arithmetic is always done in fp32.
#ifndef MISTRAL_BF16_CUH
#define MISTRAL_BF16_CUH

struct __align__(2) bf16 {
    unsigned short bits;
};

__device__ __forceinline__ float bf16_bits_to_f32(unsigned int bits) { return __uint_as_float(bits << 16); }
__device__ __forceinline__ float bf16_to_f32(bf16 v) { return bf16_bits_to_f32(v.bits); }

__device__ __forceinline__ bf16 f32_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    bf16 out;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        out.bits = (unsigned short)((u >> 16) | 0x40u);
        return out;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    out.bits = (unsigned short)(u >> 16);
    return out;
}

// Two floats rounded to bf16 (nearest even) and packed into 32 bits, `first` in the low half: the operand pair of a
// tensor-core fragment. sm_80+: one cvt.rn.bf16x2.f32 (which takes the high half first); elsewhere, and in the
// emulator, two f32_to_bf16, bit-identical for every non-NaN input (a NaN may come back with another payload).
__device__ __forceinline__ unsigned int pack_bf16x2(float first, float second) {
#if defined(__CUDA_EMU__) || !defined(__CUDA_ARCH__) || __CUDA_ARCH__ < 800
    return (unsigned int)f32_to_bf16(first).bits | ((unsigned int)f32_to_bf16(second).bits << 16);
#else
    unsigned int packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(second), "f"(first));
    return packed;
#endif
}

// Storage-generic element access: kernels are templated on the storage type T (float or bf16), math is fp32.
__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(bf16 v) { return bf16_to_f32(v); }

template <class T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ bf16 from_f32<bf16>(float v) { return f32_to_bf16(v); }

#endif  // MISTRAL_BF16_CUH
