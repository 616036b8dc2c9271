namespace Mistral.Kernels.Checks.Cases;

/// <summary>SwiGLU over gate, up [Rows, Hidden]: the tiny model's 176, 7B's 14336, and widths no vector divides.</summary>
public sealed record SwiGluCase(string Name, int Rows, int Hidden)
{
    /// <summary>gate ~ N(0, 3²) (reaching both flat tails of the sigmoid), up, dY ~ N(0, 1).</summary>
    public SwiGluData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        int n = Rows * Hidden;
        return new SwiGluData(rng.Normal(n, 3f), rng.Normal(n), rng.Normal(n));
    }

    public override string ToString() => Name;
}

public sealed record SwiGluData(float[] Gate, float[] Up, float[] DY);

public static class SwiGluCases
{
    public static IReadOnlyList<SwiGluCase> All { get; } =
    [
        new("rows1_hidden1", 1, 1),
        new("rows3_hidden176_tiny", 3, 176),
        new("rows17_hidden4097", 17, 4097),
        new("rows127_hidden65", 127, 65),
        // 4100 = 4 · 1025: fp32 vectors to the end, bf16 8-wide vectors and a 4-element tail
        new("rows1_hidden4100_bf16_tail", 1, 4100),
        new("rows2_hidden14336_7b", 2, 14336),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static SwiGluCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
