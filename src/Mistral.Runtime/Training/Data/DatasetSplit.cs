using Mistral.Runtime.Numerics;

namespace Mistral.Runtime.Training.Data;

/// <summary>Holds out a share of the documents for evaluation, chosen with the seed (the same split on every run).</summary>
public static class DatasetSplit
{
    private const ulong SplitStream = 0x4556_414C;

    /// <summary>Eval gets round(fraction·n) documents, at least 1 when fraction > 0, never all of them.</summary>
    public static (List<T> Train, List<T> Eval) Split<T>(IReadOnlyList<T> documents, double fraction, ulong seed)
    {
        if (fraction <= 0 || documents.Count < 2) return (documents.ToList(), []);
        int evalCount = Math.Clamp((int)Math.Round(fraction * documents.Count), 1, documents.Count - 1);
        var indices = Enumerable.Range(0, documents.Count).ToList();
        Xoshiro256StarStar.ForStream(seed, SplitStream).Shuffle(indices);
        var evalSet = indices.Take(evalCount).ToHashSet();
        var train = new List<T>();
        var eval = new List<T>();
        for (int i = 0; i < documents.Count; i++)
            (evalSet.Contains(i) ? eval : train).Add(documents[i]);
        return (train, eval);
    }
}
