using Mistral.Runtime.Generation;

namespace Mistral.Serving.Engine;

/// <summary>
/// The log-probability of a token under the model (logits[token] − logsumexp(logits), before any sampling filter, as
/// OpenAI and vLLM report it) and the most likely tokens at that position, best first (lower id on ties).
/// </summary>
public sealed record LogprobEntry(int Token, float Logprob, IReadOnlyList<(int Token, float Logprob)> Top)
{
    /// <param name="logits">[V] the row that predicted <paramref name="token"/>.</param>
    /// <param name="top">how many alternatives to list (0 = none).</param>
    public static LogprobEntry From(ReadOnlySpan<float> logits, int token, int top)
    {
        float lse = LogSoftmax.LogSumExp(logits);
        var best = new List<int>(top + 1);
        if (top > 0)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                if (best.Count == top && logits[i] <= logits[best[^1]]) continue;
                int at = best.Count;
                while (at > 0 && logits[i] > logits[best[at - 1]]) at--;
                best.Insert(at, i);
                if (best.Count > top) best.RemoveAt(top);
            }
        }
        var alternatives = new List<(int Token, float Logprob)>(best.Count);
        foreach (var id in best) alternatives.Add((id, logits[id] - lse));
        return new LogprobEntry(token, logits[token] - lse, alternatives);
    }
}
