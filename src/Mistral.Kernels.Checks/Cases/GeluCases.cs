namespace Mistral.Kernels.Checks.Cases;

/// <summary>GELU over [Rows, Cols]: counts of 1, below, at and past the 4-wide vector (tails handled one by one), the tiny
/// GPT-2's MLP (9 × 64), GPT-2 small's (3 × 3072) and a ragged large one.</summary>
public sealed record GeluCase(string Name, int Rows, int Cols)
{
    public int Count => Rows * Cols;

    /// <summary>x ~ N(0, 3²) (both tails, where tanh and erf saturate), dY ~ N(0, 1).</summary>
    public GeluData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        return new GeluData(rng.Normal(Count, 3f), rng.Normal(Count));
    }

    public override string ToString() => Name;
}

public sealed record GeluData(float[] X, float[] DY);

public static class GeluCases
{
    public static IReadOnlyList<GeluCase> All { get; } =
    [
        new("n1", 1, 1),
        new("n3", 1, 3),
        new("rows2_cols5", 2, 5),
        new("rows9_cols64_tiny_gpt2", 9, 64),
        new("rows3_cols3072_gpt2", 3, 3072),
        new("rows7_cols1601", 7, 1601),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static GeluCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
