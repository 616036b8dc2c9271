using Mistral.Runtime.Model;

namespace Mistral.Testing;

/// <summary>
/// Reference numbers for the evaluation tests, all from the fixtures' Python runs: tiny-gpt2's validation batch and
/// its per-token CE at the hf/ weights (train/eval.safetensors), and CEs computed here in fp64 from the reference
/// logits (CE = logsumexp(row) − row[target], CONVENTIONS.md "Training loss"). Shared by the runtime and CLI tests.
/// </summary>
public static class ReferenceCe
{
    /// <summary>CONVENTIONS / index.json full_train suggested_tolerance: per_token_ce_abs and loss_abs.</summary>
    public const double PerTokenTolerance = 3e-5, LossTolerance = 1e-5;

    /// <summary>The fixtures' bound for fp32 logits and logprobs (index.json forward/greedy suggested_tolerance abs).</summary>
    public const double LogitsTolerance = 1e-4;

    /// <summary>tiny-gpt2 train/eval.safetensors: tokens [2, 32] (rows), per_token_ce_before [2, 31], loss_before.</summary>
    public static (int[][] Rows, float[][] Ce, float Loss) Gpt2ValidationBatch()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyGpt2Train, "eval.safetensors"));
        var tokens = file.Get("tokens").ToInt32();
        var ce = file.Get("per_token_ce_before").ToFloat32();
        return ([tokens[..32], tokens[32..]], [ce[..31], ce[31..]], file.Get("loss_before").ToFloat32()[0]);
    }

    /// <summary>CE of each row t of logits [L, V] against tokens[t + 1] (L − 1 values), in fp64.</summary>
    public static double[] FromLogits(float[] logits, int[] tokens, int vocab) =>
        Enumerable.Range(0, tokens.Length - 1).Select(t => RowCe(logits.AsSpan(t * vocab, vocab), tokens[t + 1])).ToArray();

    /// <summary>Whether tokens[t + 1] is the argmax (lowest index on ties) of logits row t, for each row.</summary>
    public static bool[] IsArgmax(float[] logits, int[] tokens, int vocab) =>
        Enumerable.Range(0, tokens.Length - 1).Select(t =>
        {
            var row = logits.AsSpan(t * vocab, vocab);
            int best = 0;
            for (int c = 1; c < vocab; c++) if (row[c] > row[best]) best = c;
            return best == tokens[t + 1];
        }).ToArray();

    private static double RowCe(ReadOnlySpan<float> row, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float x in row) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in row) sum += Math.Exp(x - max);
        return max + Math.Log(sum) - row[target];
    }
}
