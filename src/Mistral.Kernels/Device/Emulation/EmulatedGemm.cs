using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>The emulator's GEMM: the definition in <see cref="GemmArgs"/>, as plain loops with fp32 accumulation.</summary>
internal static unsafe class EmulatedGemm
{
    public static void Run(in GemmArgs g)
    {
        g.Validate();
        for (int batch = 0; batch < g.BatchCount; batch++)
        {
            ulong a = g.A + (ulong)(batch * g.StrideA * g.InputType.SizeOf());
            ulong b = g.B + (ulong)(batch * g.StrideB * g.InputType.SizeOf());
            ulong c = g.C + (ulong)(batch * g.StrideC * g.OutputType.SizeOf());
            for (int i = 0; i < g.M; i++)
            {
                for (int j = 0; j < g.N; j++)
                {
                    float sum = 0f;
                    for (int k = 0; k < g.K; k++)
                    {
                        long ai = g.TransposeA ? (long)k * g.Lda + i : (long)i * g.Lda + k;
                        long bi = g.TransposeB ? (long)j * g.Ldb + k : (long)k * g.Ldb + j;
                        sum += Load(a, ai, g.InputType) * Load(b, bi, g.InputType);
                    }
                    long ci = (long)i * g.Ldc + j;
                    float value = g.Alpha * sum;
                    if (g.Beta != 0f) value += g.Beta * Load(c, ci, g.OutputType);
                    Store(c, ci, g.OutputType, value);
                }
            }
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
