namespace Mistral.Runtime.Evaluation;

/// <summary>
/// Perplexity of one long token stream with a sliding window, as Hugging Face's "perplexity of fixed-length models"
/// and stanford-crfm's WikiText evaluation compute it: windows of <c>maxLength</c> tokens start every <c>stride</c>
/// tokens (the last one ends at the stream's end); each window scores only the tokens the previous window did not
/// reach (the overlap is context, its labels excluded), and a window's first token is never scored since nothing in
/// the window precedes it. With stride &lt; maxLength every token after the first is scored exactly once; with
/// stride = maxLength the windows are disjoint and each window's first token goes unscored, exactly as in HF's loop.
/// loss = Σ CE / tokens scored (token-weighted, not a mean of window means); perplexity = exp(loss).
/// </summary>
public static class StridedPerplexity
{
    /// <summary>The windows over a stream of <paramref name="tokenCount"/> tokens, in order.</summary>
    public static IReadOnlyList<EvalWindow> Windows(int tokenCount, int maxLength, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stride, maxLength);
        var windows = new List<EvalWindow>();
        int previousEnd = 0;
        for (int begin = 0; begin < tokenCount; begin += stride)
        {
            int end = Math.Min(begin + maxLength, tokenCount);
            int scoredFrom = Math.Max(previousEnd, begin + 1);
            // A one-token window (stride = maxLength, one token left over) has nothing to predict from: HF's loop
            // would average over no labels; it is skipped here.
            if (scoredFrom < end) windows.Add(new EvalWindow(begin, end, scoredFrom));
            previousEnd = end;
            if (end == tokenCount) break;
        }
        return windows;
    }

    /// <summary>Scores <paramref name="tokens"/> (the whole text, tokenized once) with <paramref name="scorer"/>.</summary>
    public static PerplexityResult Run(TokenScorer scorer, int[] tokens, int maxLength, int stride)
    {
        if (tokens.Length < 2) throw new ArgumentException($"perplexity needs at least 2 tokens, got {tokens.Length}");
        var windows = Windows(tokens.Length, maxLength, stride);
        var sequences = windows.Select(w => new ScoredSequence(tokens.AsMemory(w.Begin, w.Length), w.ScoredFrom - w.Begin - 1));
        var losses = new float[windows.Sum(w => w.ScoredCount)];
        var (elapsedBefore, forwardedBefore) = (scorer.Elapsed, scorer.TokensForwarded);
        int at = 0;
        double sum = 0;
        foreach (var scores in scorer.Score(sequences))
        {
            foreach (float ce in scores.Losses) sum += ce;
            scores.Losses.CopyTo(losses, at);
            at += scores.Losses.Length;
        }
        return new PerplexityResult(tokens.Length, maxLength, stride, windows.Count, scorer.TokensForwarded - forwardedBefore,
            losses, sum / losses.Length, scorer.Elapsed - elapsedBefore);
    }
}
