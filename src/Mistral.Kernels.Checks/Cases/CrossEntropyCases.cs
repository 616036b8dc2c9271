namespace Mistral.Kernels.Checks.Cases;

/// <summary>Cross-entropy over logits [Tokens, Vocab] with per-token weights, some of them 0 (masked targets).</summary>
public sealed record CrossEntropyCase(string Name, int Tokens, int Vocab, float LogitStd = 2f, float Scale = 1f)
{
    /// <summary>logits ~ N(0, LogitStd²); targets uniform; weights 0 on every third token, else 1.</summary>
    public CrossEntropyData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        var weights = new float[Tokens];
        for (int t = 0; t < Tokens; t++) weights[t] = t % 3 == 2 ? 0f : 1f;
        return new CrossEntropyData(rng.Normal(Tokens * Vocab, LogitStd), rng.Ints(Tokens, Vocab), weights);
    }

    public override string ToString() => Name;
}

public sealed record CrossEntropyData(float[] Logits, int[] Targets, float[] Weights);

public static class CrossEntropyCases
{
    public static IReadOnlyList<CrossEntropyCase> All { get; } =
    [
        new("t1_v2", 1, 2),
        new("t3_v17", 3, 17),
        new("t5_v4097", 5, 4097),
        new("t17_v127_large_logits", 17, 127, LogitStd: 200f),   // needs the max subtraction
        new("t46_v32000_tiny_train", 46, 32000, Scale: 1f / 25),   // the fixture's LoRA batch: 2 × 23 targets
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static CrossEntropyCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
