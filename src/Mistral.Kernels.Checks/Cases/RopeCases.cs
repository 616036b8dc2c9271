namespace Mistral.Kernels.Checks.Cases;

/// <summary>RoPE over x [Tokens, Heads·HeadDim] at random positions below MaxPosition.</summary>
public sealed record RopeCase(string Name, int Tokens, int Heads, int HeadDim, float Theta, int MaxPosition)
{
    /// <summary>x, dY ~ N(0, 1) [Tokens, Heads·HeadDim]; positions uniform in [0, MaxPosition) [Tokens].</summary>
    public RopeData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        int n = Tokens * Heads * HeadDim;
        return new RopeData(rng.Normal(n), rng.Ints(Tokens, MaxPosition), rng.Normal(n));
    }

    public override string ToString() => Name;
}

public sealed record RopeData(float[] X, int[] Positions, float[] DY);

public static class RopeCases
{
    public static IReadOnlyList<RopeCase> All { get; } =
    [
        new("t1_h1_d2", 1, 1, 2, 1e4f, 1),
        new("t3_h4_d16_tiny", 3, 4, 16, 1e4f, 14),
        new("t5_h3_d6", 5, 3, 6, 1e4f, 100),
        new("t17_h2_d128_theta1e6", 17, 2, 128, 1e6f, 32768),
        new("t127_h8_d64", 127, 8, 64, 1e4f, 4096),
        new("t4_h32_d128_7b", 4, 32, 128, 1e4f, 8192),
        // the widest head the kernel takes (a 128-pair table), 3 heads: 384 pairs stride over a 256-thread block;
        // positions up to 2^20, angles far into the range where sinf/cosf take their slow path
        new("t3_h3_d256_max_far", 3, 3, 256, 1e6f, 1 << 20),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static RopeCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
