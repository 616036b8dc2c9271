namespace Mistral.Kernels.Checks.Cases;

/// <summary>Argmax per row of logits [Rows, Vocab]; every row has a planted tie for its maximum at two columns.</summary>
public sealed record ArgmaxCase(string Name, int Rows, int Vocab)
{
    /// <summary>logits ~ N(0, 1) with each row's maximum copied to a second, later column (the answer is the earlier one).</summary>
    public float[] Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        var logits = rng.Normal(Rows * Vocab);
        var columns = rng.Ints(2 * Rows, Vocab);
        for (int r = 0; r < Rows; r++)
        {
            var row = logits.AsSpan(r * Vocab, Vocab);
            int a = Math.Min(columns[2 * r], columns[2 * r + 1]), b = Math.Max(columns[2 * r], columns[2 * r + 1]);
            float top = 0;
            foreach (var x in row) top = Math.Max(top, x);
            row[a] = top + 1f;
            row[b] = top + 1f;
        }
        return logits;
    }

    public override string ToString() => Name;
}

public static class ArgmaxCases
{
    public static IReadOnlyList<ArgmaxCase> All { get; } =
    [
        new("r1_v1", 1, 1),
        new("r3_v17", 3, 17),
        new("r3_v32000_tiny", 3, 32000),
        new("r17_v4097", 17, 4097),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static ArgmaxCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
