using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Device;

/// <summary>
/// One row-major (strided-batched) GEMM: for b in [0, BatchCount):
/// C_b[M, N] = Alpha · op(A_b) · op(B_b) + Beta · C_b, op(X) = Xᵀ when its flag is set, accumulated in fp32.
/// A is stored [M, K] (or [K, M] when transposed) with row stride Lda elements; B [K, N] (or [N, K]) with Ldb;
/// C [M, N] with Ldc. A and B share <see cref="InputType"/> (F32 or BF16); C is F32 or BF16. When Beta is 0, C is
/// not read (as cuBLAS: NaN garbage in C does not propagate).
/// </summary>
public readonly record struct GemmArgs(
    ulong A, ulong B, ulong C, DType InputType, DType OutputType,
    bool TransposeA, bool TransposeB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    float Alpha = 1f, float Beta = 0f, int BatchCount = 1, long StrideA = 0, long StrideB = 0, long StrideC = 0)
{
    /// <summary>Densely packed matrices (leading dimensions equal to the stored row lengths).</summary>
    public static GemmArgs Dense(ulong a, bool transposeA, ulong b, bool transposeB, ulong c, int m, int n, int k,
        DType inputType, DType outputType, float alpha = 1f, float beta = 0f) =>
        new(a, b, c, inputType, outputType, transposeA, transposeB, m, n, k,
            Lda: transposeA ? m : k, Ldb: transposeB ? k : n, Ldc: n, alpha, beta);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        if (InputType is not (DType.F32 or DType.BF16)) throw new ArgumentException($"GEMM inputs must be F32 or BF16, not {InputType}");
        if (OutputType is not (DType.F32 or DType.BF16)) throw new ArgumentException($"GEMM output must be F32 or BF16, not {OutputType}");
        if (M <= 0 || N <= 0 || K <= 0 || BatchCount <= 0) throw new ArgumentException($"GEMM with M={M}, N={N}, K={K}, batch={BatchCount}: all must be positive");
        if (Lda < (TransposeA ? M : K)) throw new ArgumentException($"GEMM lda {Lda} is shorter than a stored row of A ({(TransposeA ? M : K)})");
        if (Ldb < (TransposeB ? K : N)) throw new ArgumentException($"GEMM ldb {Ldb} is shorter than a stored row of B ({(TransposeB ? K : N)})");
        if (Ldc < N) throw new ArgumentException($"GEMM ldc {Ldc} is shorter than a row of C ({N})");
    }
}
