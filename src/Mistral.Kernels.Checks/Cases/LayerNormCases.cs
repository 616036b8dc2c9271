namespace Mistral.Kernels.Checks.Cases;

/// <summary>LayerNorm over [Rows, Dim]: D = 1 (the row is its own mean), T = 1, dims that are not multiples of a warp,
/// a vector or a block width, the tiny GPT-2 (16), GPT-2 small (768) and XL (1600), and a dim past 4096.</summary>
public sealed record LayerNormCase(string Name, int Rows, int Dim, float Eps = 1e-5f)
{
    /// <summary>x ~ 3 + N(0, 2²) [Rows, Dim] (a mean well away from 0, so centering matters), weight ~ U(0.5, 1.5) [Dim],
    /// bias ~ N(0, 0.5²) [Dim], dY ~ N(0, 1) [Rows, Dim].</summary>
    public LayerNormData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        var x = rng.Normal(Rows * Dim, 2f).Select(v => v + 3f).ToArray();
        return new LayerNormData(x, rng.Uniform(Dim, 0.5f, 1.5f), rng.Normal(Dim, 0.5f), rng.Normal(Rows * Dim));
    }

    public override string ToString() => Name;
}

public sealed record LayerNormData(float[] X, float[] Weight, float[] Bias, float[] DY);

public static class LayerNormCases
{
    public static IReadOnlyList<LayerNormCase> All { get; } =
    [
        new("rows1_dim1", 1, 1),
        new("rows1_dim768_gpt2", 1, 768),
        new("rows3_dim65", 3, 65),
        new("rows9_dim16_tiny_gpt2", 9, 16),
        new("rows5_dim1600_gpt2_xl", 5, 1600),
        new("rows17_dim4097", 17, 4097),
        new("rows127_dim33", 127, 33),
        new("rows4_dim96_eps1e-3", 4, 96, 1e-3f),
        new("rows5000_dim7", 5000, 7),   // dWeight and dBias over 157 row slices, the last partial
        new("rows300_dim776", 300, 776),   // 10 slices; a multiple of 8: 16-byte loads in both dtypes
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static LayerNormCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
