using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Evaluation;

/// <summary>
/// Last-word prediction, LAMBADA-style, scored as lm-evaluation-harness does: the context and the joined text are
/// encoded with the model's tokenizer (BOS first when the tokenizer adds one); the target's tokens are those of the
/// joined text past the context's; the model reads the joined text but its last token, keeping at most maxLength
/// tokens (the context is cut on the left when longer). Correct = every target token is the argmax of its row.
/// </summary>
public static class LambadaEval
{
    public static LambadaResult Run(TokenScorer scorer, ITokenizer tokenizer, IReadOnlyList<LambadaExample> examples, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        int truncated = 0;
        var sequences = new List<ScoredSequence>(examples.Count);
        foreach (var example in examples)
        {
            int contextCount = tokenizer.Encode(example.Context, bos: tokenizer.AddsBos).Length;
            int[] joined = tokenizer.Encode(example.Joined, bos: tokenizer.AddsBos);
            int targetCount = joined.Length - contextCount;
            if (targetCount < 1)
                throw new DataFormatException(example.File, $"line {example.Line}: the target adds no tokens to the context");
            if (targetCount > maxLength)
                throw new DataFormatException(example.File, $"line {example.Line}: the target is {targetCount} tokens, more than the maximum length {maxLength}");
            int keep = Math.Min(joined.Length, maxLength + 1);               // maxLength inputs, then the last target
            if (keep < joined.Length) truncated++;
            sequences.Add(new ScoredSequence(joined.AsMemory(joined.Length - keep), keep - 1 - targetCount));
        }

        var (elapsedBefore, forwardedBefore) = (scorer.Elapsed, scorer.TokensForwarded);
        var perExample = new List<(bool, double, int)>(examples.Count);
        foreach (var scores in scorer.Score(sequences, argmax: true))
        {
            double sum = 0;
            foreach (float ce in scores.Losses) sum += ce;
            perExample.Add((scores.IsArgmax!.All(x => x), sum, scores.Losses.Length));
        }
        return new LambadaResult(maxLength, perExample, truncated, scorer.TokensForwarded - forwardedBefore, scorer.Elapsed - elapsedBefore);
    }
}
