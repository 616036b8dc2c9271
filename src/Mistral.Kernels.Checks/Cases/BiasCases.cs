namespace Mistral.Kernels.Checks.Cases;

/// <summary>Bias over [Rows, Features]: one row, one feature, feature counts that miss the vector width (the column of
/// an element changes inside a thread's 4), the tiny GPT-2's c_attn (48), GPT-2's c_attn (2304) and XL width (1600).</summary>
public sealed record BiasCase(string Name, int Rows, int Features)
{
    /// <summary>x ~ N(0, 1) [Rows, Features], bias ~ N(0, 0.5²) [Features], dY ~ N(0, 1) [Rows, Features].</summary>
    public BiasData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        return new BiasData(rng.Normal(Rows * Features), rng.Normal(Features, 0.5f), rng.Normal(Rows * Features));
    }

    public override string ToString() => Name;
}

public sealed record BiasData(float[] X, float[] Bias, float[] DY);

public static class BiasCases
{
    public static IReadOnlyList<BiasCase> All { get; } =
    [
        new("rows1_features1", 1, 1),
        new("rows1_features768", 1, 768),
        new("rows3_features5", 3, 5),
        new("rows9_features48_tiny_gpt2", 9, 48),
        new("rows13_features3", 13, 3),
        new("rows4_features2304_gpt2", 4, 2304),
        new("rows17_features1600", 17, 1600),
        new("rows300_features33", 300, 33),
        new("rows5000_features7", 5000, 7),   // 157 row slices, the last partial
        new("rows64_features2304_gpt2", 64, 2304),   // exactly two slices; 16-byte loads
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static BiasCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
