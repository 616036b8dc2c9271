using System.Numerics.Tensors;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// The emulator's GEMM, written straight from the definition in <see cref="GemmArgs"/>: widen op(A) to fp32 rows
/// [M, K] and op(B)ᵀ to fp32 rows [N, K] (applying leading dimensions and transposes while gathering), then each
/// C[i, j] is one fp32 dot product. Rows of C run in parallel.
/// </summary>
internal static unsafe class EmulatedGemm
{
    public static void Run(in GemmArgs g)
    {
        g.Validate();
        var args = g;
        int inSize = g.InputType.SizeOf(), outSize = g.OutputType.SizeOf();
        var a = new float[(long)g.M * g.K];   // op(A) [M, K]
        var bt = new float[(long)g.N * g.K];  // op(B)ᵀ [N, K]
        for (int batch = 0; batch < g.BatchCount; batch++)
        {
            ulong aBase = g.A + (ulong)(batch * g.StrideA * inSize);
            ulong bBase = g.B + (ulong)(batch * g.StrideB * inSize);
            ulong cBase = g.C + (ulong)(batch * g.StrideC * outSize);
            for (int i = 0; i < g.M; i++)
                for (int k = 0; k < g.K; k++)
                    a[(long)i * g.K + k] = Load(aBase, g.TransposeA ? (long)k * g.Lda + i : (long)i * g.Lda + k, g.InputType);
            for (int j = 0; j < g.N; j++)
                for (int k = 0; k < g.K; k++)
                    bt[(long)j * g.K + k] = Load(bBase, g.TransposeB ? (long)j * g.Ldb + k : (long)k * g.Ldb + j, g.InputType);
            Parallel.For(0, g.M, i =>
            {
                var row = a.AsSpan(i * args.K, args.K);
                for (int j = 0; j < args.N; j++)
                {
                    long ci = (long)i * args.Ldc + j;
                    float value = args.Alpha * TensorPrimitives.Dot(row, bt.AsSpan(j * args.K, args.K));
                    if (args.Beta != 0f) value += args.Beta * Load(cBase, ci, args.OutputType); // beta = 0: C is not read
                    Store(cBase, ci, args.OutputType, value);
                }
            });
        }
    }

    private static float Load(ulong p, long i, DType type) => type == DType.BF16
        ? FloatBits.BFloat16ToSingle(((ushort*)p)[i])
        : ((float*)p)[i];

    private static void Store(ulong p, long i, DType type, float value)
    {
        if (type == DType.BF16) ((ushort*)p)[i] = FloatBits.SingleToBFloat16(value);
        else ((float*)p)[i] = value;
    }
}
