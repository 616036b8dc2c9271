namespace Mistral.Runtime.Numerics;

/// <summary>
/// xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c), seeded by SplitMix64 as its
/// authors recommend: the one random source of the engine (sampling, shuffling, LoRA init, dropout). Written out here
/// rather than using System.Random so that a seed means the same numbers on every .NET version and every device, and
/// its state is four words that a training checkpoint saves, so a resumed run draws what an uninterrupted one would.
/// </summary>
public sealed class Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        ulong sm = seed;
        _s0 = SplitMix64(ref sm);
        _s1 = SplitMix64(ref sm);
        _s2 = SplitMix64(ref sm);
        _s3 = SplitMix64(ref sm);
    }

    private Xoshiro256StarStar(ulong[] state) => (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);

    /// <summary>An independent stream per purpose (shuffle, init, dropout, ...) from one user seed.</summary>
    public static Xoshiro256StarStar ForStream(ulong seed, ulong stream) =>
        new(seed ^ (stream * 0x9E3779B97F4A7C15UL + 0xD1B54A32D192ED03UL));

    public static Xoshiro256StarStar FromState(ulong[] state) =>
        state.Length == 4 ? new Xoshiro256StarStar(state) : throw new ArgumentException("rng state: expected 4 words");

    public ulong[] State => [_s0, _s1, _s2, _s3];

    /// <summary>SplitMix64 (https://prng.di.unimi.it/splitmix64.c): advances the state and returns the next output.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
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

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

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
