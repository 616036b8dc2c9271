namespace Mistral.Kernels.Checks.Cases;

/// <summary>
/// y [M, N] = alpha · x [M, K] · w [N, K]ᵀ + beta · y for the decode GEMV (M ≤ 8). Misaligned cases start x and w one
/// element past a 16-byte boundary, so the kernel must take its element-by-element path. Parts splits the N rows of w
/// into up to three weights (and y into their outputs) run by one launch, as q, k, v are.
/// </summary>
public sealed record GemvCase(string Name, int M, int N, int K, float Alpha = 1f, float Beta = 0f, bool Misaligned = false, int[]? Parts = null)
{
    /// <summary>Rows of each weight of the launch: Parts, or all N in one.</summary>
    public int[] Weights => Parts ?? [N];

    /// <summary>x, w ~ N(0, 1) with <paramref name="weightRowsPerOutput"/> · N rows of w (2 for the fused SwiGLU); y ~ N(0, 1) (read only when Beta ≠ 0).</summary>
    public GemmData Build(int weightRowsPerOutput = 1)
    {
        var rng = CaseRandom.For(Name);
        return new GemmData(rng.Normal(M * K), rng.Normal(weightRowsPerOutput * N * K), rng.Normal(M * N));
    }

    public override string ToString() => Name;
}

public static class GemvCases
{
    public static IReadOnlyList<GemvCase> All { get; } =
    [
        new("m1_n1_k1", 1, 1, 1),
        new("m1_n3_k8", 1, 3, 8),
        new("m1_n7_k5_k_not_vector", 1, 7, 5),
        new("m2_n33_k65", 2, 33, 65),
        new("m3_n17_k264", 3, 17, 264),
        new("m4_n5_k4100_bf16_odd_vectors", 4, 5, 4100),      // fp32: vectors; bf16: 4100 = 8·512 + 4, element path
        new("m1_n64_k64_tiny_wq", 1, 64, 64),
        new("m1_n101_k1024_unrolled", 1, 101, 1024),          // 128 bf16 vectors: every lane's 4 loads in flight
        new("m8_n9_k2056_max_rows", 8, 9, 2056),
        new("m5_n11_k40_beta_residual", 5, 11, 40, 1f, 1f),    // the wo / w2 epilogue: y = h + x · Wᵀ
        new("m2_n6_k24_alpha_beta", 2, 6, 24, 0.5f, -0.75f),
        new("m2_n13_k64_misaligned", 2, 13, 64, Misaligned: true),
        new("m1_n32000_k64_tiny_output", 1, 32000, 64),
        new("m1_qkv_64_32_32_k64_tiny", 1, 128, 64, Parts: [64, 32, 32]),
        new("m3_qkv_5_1_7_k13", 3, 13, 13, Parts: [5, 1, 7]),
        new("m2_qkv_4_0_5_k16_empty_part", 2, 9, 16, Parts: [4, 0, 5]),
        new("m4_two_3_6_k264_beta", 4, 9, 264, 1f, 1f, Parts: [3, 6]),
    ];

    /// <summary>The fused SwiGLU: w = [w1; w3] [2F, K], y [M, F].</summary>
    public static IReadOnlyList<GemvCase> SwiGlu { get; } =
    [
        new("m1_f1_k1", 1, 1, 1),
        new("m1_f176_k64_tiny", 1, 176, 64),
        new("m3_f9_k13_k_not_vector", 3, 9, 13),
        new("m4_f33_k1032", 4, 33, 1032),
        new("m2_f7_k64_misaligned", 2, 7, 64, Misaligned: true),
    ];
}
