namespace Mistral.Kernels.Checks.Cases;

/// <summary>RMSNorm over [Rows, Dim]: rows 1..5000, dims that are not multiples of a warp or vector width, the tiny model (64) and 7B (4096).</summary>
public sealed record RmsNormCase(string Name, int Rows, int Dim, float Eps = 1e-5f)
{
    /// <summary>x ~ N(0, 2²) [Rows, Dim], weight ~ U(0.5, 1.5) [Dim], dY ~ N(0, 1) [Rows, Dim].</summary>
    public RmsNormData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        return new RmsNormData(rng.Normal(Rows * Dim, 2f), rng.Uniform(Dim, 0.5f, 1.5f), rng.Normal(Rows * Dim));
    }

    public override string ToString() => Name;
}

public sealed record RmsNormData(float[] X, float[] Weight, float[] DY);

public static class RmsNormCases
{
    public static IReadOnlyList<RmsNormCase> All { get; } =
    [
        new("rows1_dim1", 1, 1),
        new("rows1_dim64", 1, 64),
        new("rows3_dim65", 3, 65),
        new("rows14_dim64_tiny", 14, 64),
        new("rows17_dim4097", 17, 4097),
        new("rows127_dim33", 127, 33),
        new("rows2_dim4096_7b", 2, 4096),
        new("rows5_dim96_eps1e-3", 5, 96, 1e-3f),
        // a multiple of 4 but not of 8: fp32 rows all take 16-byte vectors, bf16 rows a 4-element tail, and every
        // other bf16 row starts 8 bytes off a 16-byte boundary (element-wise)
        new("rows5_dim68_bf16_tail", 5, 68),
        // many rows: the dWeight column sum runs over 157 row slices (a partial last one); 4100 is a multiple of 4 but
        // not of 8 (fp32 vector loads, bf16 element by element), 7 is neither (one thread's columns are the whole row)
        new("rows5000_dim4100", 5000, 4100),
        new("rows5000_dim7", 5000, 7),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static RmsNormCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
