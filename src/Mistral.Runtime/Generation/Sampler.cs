using Mistral.Runtime.Numerics;

namespace Mistral.Runtime.Generation;

/// <summary>
/// Chooses the next token of one sequence from its last-position logits, on the host. The filters run in the order
/// Hugging Face's warpers use (llama.cpp's chain differs only in where temperature sits):
/// repetition penalty → temperature (0 = argmax, done) → softmax → top-k → top-p → min-p → renormalise → draw.
/// Each sequence owns one Sampler: the draw is a pure function of (seed, stream, logits, history), so the same seed
/// gives the same tokens whatever else shares the batch.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Xoshiro256StarStar _rng;
    private float[] _penalized = [];
    private double[] _probs = [];
    private int[] _order = [];
    private readonly HashSet<int> _recent = [];

    /// <param name="options">validated here.</param>
    /// <param name="stream">index of the sequence in its batch; mixed into the seed so rows draw independently.</param>
    public Sampler(SamplingOptions options, int stream = 0)
    {
        options.Validate();
        _options = options;
        ulong mix = options.Seed ^ ((ulong)(uint)stream * 0xD1B54A32D192ED03UL);
        _rng = new Xoshiro256StarStar(Xoshiro256StarStar.SplitMix64(ref mix));
    }

    public SamplingOptions Options => _options;

    /// <summary>The next token. logits [V]; history = every token of the sequence so far (prompt and generated).</summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int kept = Filter(logits, history, out double total);
        if (_options.IsGreedy) return _order[0];
        double u = _rng.NextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < kept; i++)
        {
            cumulative += _probs[_order[i]];
            if (u < cumulative) return _order[i];
        }
        return _order[kept - 1]; // u landed in the rounding gap at the very top
    }

    /// <summary>
    /// The distribution <see cref="Sample"/> draws from: the surviving tokens, most probable first (lower id on ties),
    /// with probabilities renormalised to sum to 1. Greedy gives the argmax with probability 1.
    /// </summary>
    public IReadOnlyList<(int Token, double Probability)> Distribution(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int kept = Filter(logits, history, out double total);
        if (_options.IsGreedy) return [(_order[0], 1.0)];
        var result = new (int, double)[kept];
        for (int i = 0; i < kept; i++) result[i] = (_order[i], _probs[_order[i]] / total);
        return result;
    }

    /// <summary>
    /// CTRL's penalty as HF and llama.cpp apply it: a recent token's logit is divided by the penalty when positive and
    /// multiplied by it when negative, so a penalty above 1 always makes it less likely. Each token counts once.
    /// </summary>
    public static void ApplyRepetitionPenalty(Span<float> logits, IEnumerable<int> recentTokens, float penalty)
    {
        foreach (int token in recentTokens)
        {
            if ((uint)token >= (uint)logits.Length) continue; // ids beyond the vocab (never produced) carry no logit
            logits[token] = logits[token] > 0 ? logits[token] / penalty : logits[token] * penalty;
        }
    }

    /// <summary>Fills _order with the kept candidates (best first) and _probs with their unnormalised weights; returns the count.</summary>
    private int Filter(ReadOnlySpan<float> logits, ReadOnlySpan<int> history, out double total)
    {
        int vocab = logits.Length;
        if (vocab == 0) throw new ArgumentException("sampler: empty logits row");
        if (_penalized.Length != vocab)
        {
            _penalized = new float[vocab];
            _probs = new double[vocab];
            _order = new int[vocab];
        }
        logits.CopyTo(_penalized);
        if (_options.RepetitionPenalty != 1f)
        {
            var window = _options.RepetitionWindow == 0 || history.Length <= _options.RepetitionWindow
                ? history : history[^_options.RepetitionWindow..];
            _recent.Clear();
            foreach (int token in window) _recent.Add(token);
            ApplyRepetitionPenalty(_penalized, _recent, _options.RepetitionPenalty);
        }

        if (_options.IsGreedy)
        {
            _order[0] = ArgMax(_penalized);
            total = 1;
            return 1;
        }

        // Softmax of logits / T in fp64 (max subtracted first, so exp never overflows).
        double invT = 1.0 / _options.Temperature, max = double.NegativeInfinity;
        foreach (float l in _penalized) max = Math.Max(max, l * invT);
        for (int i = 0; i < vocab; i++)
        {
            _probs[i] = Math.Exp(_penalized[i] * invT - max);
            _order[i] = i;
        }
        var probs = _probs;
        Array.Sort(_order, (a, b) => probs[a] != probs[b] ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));

        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, vocab) : vocab;
        total = Sum(kept);
        if (_options.TopP < 1f)
        {
            // mistral-src sample_top_p: drop a token when the mass strictly before it already exceeds p.
            double before = 0, limit = _options.TopP * total;
            int n = 0;
            while (n < kept && before <= limit) before += _probs[_order[n++]];
            kept = n;
            total = Sum(kept);
        }
        if (_options.MinP > 0f)
        {
            // Keep tokens at least MinP times as likely as the best one.
            double floor = _options.MinP * _probs[_order[0]];
            int n = 1;
            while (n < kept && _probs[_order[n]] >= floor) n++;
            kept = n;
            total = Sum(kept);
        }
        return kept;
    }

    private double Sum(int count)
    {
        double s = 0;
        for (int i = 0; i < count; i++) s += _probs[_order[i]];
        return s;
    }

    /// <summary>Index of the largest value; the lowest index wins ties (as torch.argmax and IOps.Argmax do).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
