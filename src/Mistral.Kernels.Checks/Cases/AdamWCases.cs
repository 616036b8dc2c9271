using Mistral.Kernels.Ops;

namespace Mistral.Kernels.Checks.Cases;

/// <summary>AdamW on Length parameters for Steps consecutive steps (bias correction changes every step).</summary>
public sealed record AdamWCase(string Name, int Length, int Steps, AdamWStepArgs Args)
{
    /// <summary>param ~ N(0, 1); one gradient per step ~ N(0, 1) scaled by 10^U(−4, 0), so tiny gradients (where eps matters) appear.</summary>
    public AdamWData Build(int salt = 0)
    {
        var rng = CaseRandom.For(Name, salt);
        var param = rng.Normal(Length);
        var grads = new float[Steps][];
        for (int s = 0; s < Steps; s++)
        {
            var g = rng.Normal(Length);
            var magnitude = rng.Uniform(Length, -4f, 0f);
            for (int i = 0; i < Length; i++) g[i] *= MathF.Pow(10f, magnitude[i]);
            grads[s] = g;
        }
        return new AdamWData(param, grads);
    }

    public override string ToString() => Name;
}

public sealed record AdamWData(float[] Param, float[][] Grads);

public static class AdamWCases
{
    private static readonly AdamWStepArgs Fixture = new(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, Step: 1);

    public static IReadOnlyList<AdamWCase> All { get; } =
    [
        new("n1_fixture_settings", 1, 3, Fixture),
        new("n17_fixture_settings", 17, 5, Fixture),
        new("n4097_clipped", 4097, 2, Fixture with { GradScale = 0.3f }),
        new("n65_no_decay_high_lr", 65, 4, new AdamWStepArgs(0.05f, 0.8f, 0.99f, 1e-6f, 0f, Step: 1)),
    ];

    public static IEnumerable<string> Names => All.Select(c => c.Name);
    public static AdamWCase Get(string name) => CaseTable.Find(All, c => c.Name, name);
}
