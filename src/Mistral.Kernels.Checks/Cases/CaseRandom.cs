namespace Mistral.Kernels.Checks.Cases;

/// <summary>
/// Seeded input data for the op cases: the same seed gives the same numbers on every machine and every run
/// (System.Random with a seed is a fixed algorithm), so a failing case can be replayed exactly.
/// </summary>
public sealed class CaseRandom(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>
    /// A generator seeded from a case name (FNV-1a, stable across processes, unlike string.GetHashCode) and a salt,
    /// so every case has its own fixed data and a test can ask for a second independent draw.
    /// </summary>
    public static CaseRandom For(string caseName, int salt = 0)
    {
        uint hash = 2166136261;
        foreach (char ch in caseName) hash = (hash ^ ch) * 16777619;
        return new CaseRandom((int)(hash ^ (uint)salt * 2654435761u) & int.MaxValue);
    }

    /// <summary>Normal(0, std²) samples by Box–Muller.</summary>
    public float[] Normal(int count, float std = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - _random.NextDouble(), u2 = _random.NextDouble();  // u1 in (0, 1]: log is finite
            values[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>Uniform samples in [low, high).</summary>
    public float[] Uniform(int count, float low, float high)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(low + (high - low) * _random.NextDouble());
        return values;
    }

    /// <summary>Integers in [0, maxExclusive).</summary>
    public int[] Ints(int count, int maxExclusive)
    {
        var values = new int[count];
        for (int i = 0; i < count; i++) values[i] = _random.Next(maxExclusive);
        return values;
    }
}
