namespace Mistral.Kernels.Checks.Cases;

/// <summary>C [M, N] = alpha · op(A) · op(B) + beta · C with A stored [M, K] ([K, M] when TransposeA), B [K, N] ([N, K] when TransposeB).</summary>
public sealed record GemmCase(string Name, int M, int N, int K, bool TransposeA, bool TransposeB, float Alpha = 1f, float Beta = 0f)
{
    /// <summary>A, B ~ N(0, 1); C ~ N(0, 1) (read only when Beta ≠ 0).</summary>
    public GemmData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        return new GemmData(rng.Normal(M * K), rng.Normal(K * N), rng.Normal(M * N));
    }

    public long Flops => 2L * M * N * K;

    public override string ToString() => Name;
}

public sealed record GemmData(float[] A, float[] B, float[] C);

public static class GemmCases
{
    public static IReadOnlyList<GemmCase> All { get; } =
    [
        new("1x1x1_nn", 1, 1, 1, false, false),
        new("3x17x65_nt", 3, 17, 65, false, true),
        new("17x3x127_tn", 17, 3, 127, true, false),
        new("5x33x17_tt_beta", 5, 33, 17, true, true, 0.75f, -0.5f),
        new("127x33x4097_nt", 127, 33, 4097, false, true),
        new("65x127x3_nn_accumulate", 65, 127, 3, false, false, 1f, 1f),
        new("14x32000x64_nt_tiny_output", 14, 32000, 64, false, true),
        new("1x32000x64_nt_tiny_decode", 1, 32000, 64, false, true),
        new("46x176x64_nt_tiny_w1", 46, 176, 64, false, true),
        new("46x4x64_nt_lora_a", 46, 4, 64, false, true),           // x · Aᵀ, rank 4
        new("4x64x46_tn_lora_da", 4, 64, 46, true, false),          // dA = dHᵀ · x
        new("46x176x64_nn_dh_w2", 46, 176, 64, false, false),       // dH = dY [46, 64] · W2 [64, 176]
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static GemmCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
