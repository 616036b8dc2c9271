using System.Numerics.Tensors;
using Mistral.Kernels.Native;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// The emulator's GEMM, written straight from cuBLAS's column-major definition of the very arguments
/// <see cref="CudaBlas"/> passes (<see cref="CublasGemmCall"/>): widen op(A) to fp32 rows [m, k] and op(B)ᵀ to fp32
/// rows [n, k] (applying leading dimensions and transposes while gathering), then each C(i, j) = C[i + j·ldc] is one
/// fp32 dot product. Columns of op(A) run in parallel.
/// </summary>
internal static unsafe class EmulatedGemm
{
    public static void Run(in CublasGemmCall g)
    {
        g.Validate();
        var call = g;
        DType aType = Type(g.AType), cType = Type(g.CType);
        int inSize = aType.SizeOf(), outSize = cType.SizeOf();
        bool transA = g.TransA == LibCublas.CUBLAS_OP_T, transB = g.TransB == LibCublas.CUBLAS_OP_T;
        var a = new float[(long)g.M * g.K];   // op(A) [m, k], row i = row i of op(A)
        var bt = new float[(long)g.N * g.K];  // op(B)ᵀ [n, k], row j = column j of op(B)
        for (int batch = 0; batch < g.BatchCount; batch++)
        {
            ulong aBase = g.A + (ulong)(batch * g.StrideA * inSize);
            ulong bBase = g.B + (ulong)(batch * g.StrideB * inSize);
            ulong cBase = g.C + (ulong)(batch * g.StrideC * outSize);
            for (int i = 0; i < g.M; i++)
                for (int p = 0; p < g.K; p++)
                    a[(long)i * g.K + p] = Load(aBase, transA ? (long)i * g.Lda + p : (long)p * g.Lda + i, aType);
            for (int j = 0; j < g.N; j++)
                for (int p = 0; p < g.K; p++)
                    bt[(long)j * g.K + p] = Load(bBase, transB ? (long)p * g.Ldb + j : (long)j * g.Ldb + p, aType);
            Parallel.For(0, g.M, i =>
            {
                var row = a.AsSpan(i * call.K, call.K);
                for (int j = 0; j < call.N; j++)
                {
                    long ci = (long)j * call.Ldc + i;
                    float value = call.Alpha * TensorPrimitives.Dot(row, bt.AsSpan(j * call.K, call.K));
                    if (call.Beta != 0f) value += call.Beta * Load(cBase, ci, cType); // beta = 0: C is not read
                    Store(cBase, ci, cType, value);
                }
            });
        }
    }

    private static DType Type(int cudaDataType) => cudaDataType switch
    {
        LibCublas.CUDA_R_32F => DType.F32,
        LibCublas.CUDA_R_16BF => DType.BF16,
        _ => throw new ArgumentException($"the emulated GEMM has no cudaDataType {cudaDataType} (F32 and BF16 only)"),
    };

    private static float Load(ulong p, long i, DType type) => type == DType.BF16
        ? FloatBits.BFloat16ToSingle(((ushort*)p)[i])
        : ((float*)p)[i];

    private static void Store(ulong p, long i, DType type, float value)
    {
        if (type == DType.BF16) ((ushort*)p)[i] = FloatBits.SingleToBFloat16(value);
        else ((float*)p)[i] = value;
    }
}
