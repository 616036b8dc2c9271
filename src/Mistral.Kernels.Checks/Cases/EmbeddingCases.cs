namespace Mistral.Kernels.Checks.Cases;

/// <summary>Gather of Tokens rows from a [Vocab, Dim] table; token ids repeat on purpose (the backward's scatter-add must accumulate).</summary>
public sealed record EmbeddingCase(string Name, int Tokens, int Vocab, int Dim)
{
    /// <summary>tokens uniform in [0, Vocab) with the first id repeated at the end and id Vocab − 1 present; table, dY ~ N(0, 1).</summary>
    public EmbeddingData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        var tokens = rng.Ints(Tokens, Vocab);
        if (Tokens >= 2) tokens[^1] = tokens[0];
        if (Tokens >= 3) tokens[1] = Vocab - 1;
        return new EmbeddingData(tokens, rng.Normal(Vocab * Dim), rng.Normal(Tokens * Dim));
    }

    public override string ToString() => Name;
}

public sealed record EmbeddingData(int[] Tokens, float[] Table, float[] DY);

public static class EmbeddingCases
{
    public static IReadOnlyList<EmbeddingCase> All { get; } =
    [
        new("t1_v1_d1", 1, 1, 1),
        new("t3_v10_d65", 3, 10, 65),
        new("t14_v32000_d64_tiny", 14, 32000, 64),
        new("t17_v5_d4097_repeats", 17, 5, 4097),
        new("t127_v300_d33", 127, 300, 33),
        // fewer vocabulary rows than the backward's slices, hot tokens (each id ~67 times)
        new("t200_v3_d300_hot", 200, 3, 300),
        // GPT-2's vocabulary: 50257 rows over 64 slices, a 9-token prompt of the tiny model
        new("t9_v50257_d16_gpt2", 9, 50257, 16),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static EmbeddingCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
