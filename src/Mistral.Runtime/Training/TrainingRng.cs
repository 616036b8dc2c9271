namespace Mistral.Runtime.Training;

/// <summary>
/// xoshiro256** seeded through SplitMix64: the one random source of training (shuffling, LoRA init, dropout). Its state is
/// four ulongs, saved in checkpoints, so a resumed run draws exactly the numbers an uninterrupted one would — which
/// System.Random does not promise across runtime versions.
/// </summary>
public sealed class TrainingRng
{
    private ulong _s0, _s1, _s2, _s3;

    public TrainingRng(ulong seed, ulong stream = 0)
    {
        ulong x = seed ^ (stream * 0x9E3779B97F4A7C15UL + 0xD1B54A32D192ED03UL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private TrainingRng(ulong[] state) => (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);

    public static TrainingRng FromState(ulong[] state) =>
        state.Length == 4 ? new TrainingRng(state) : throw new ArgumentException("rng state: expected 4 words");

    public ulong[] State => [_s0, _s1, _s2, _s3];

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (exactly representable in fp32).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform integer in [0, n), without modulo bias.</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % (ulong)n);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
