namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "forward" for a bf16 run (--precision bf16): the same one batched forward as <see cref="ForwardCaseKind"/>,
/// but bf16 activations keep ~3 significant digits, so the fp32 tolerance does not apply. Reported: the max abs diff
/// of the logits and the share of positions whose top-1 token equals the reference's; PASS when that share is at
/// least <see cref="RequiredTop1Share"/>.
/// </summary>
public sealed class Bf16ForwardCaseKind : IParityCaseKind
{
    /// <summary>The target: bf16 may flip a near-tie, not more than one position in a hundred.</summary>
    public const double RequiredTop1Share = 0.99;

    public string Kind => "forward";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        using var run = BatchedForwardRun.Start(testCase, context);
        var prompts = run.Prompts;
        int vocab = run.Vocab;
        var diff = new WorstDiff();
        int positions = 0, matches = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var mine = run.Logits(i, out var expected);
            diff.Add($"prompt{i}.logits", expected, mine);
            for (int t = 0; t < prompts[i].Length; t++, positions++)
                if (Top1(expected.AsSpan(t * vocab, vocab)) == Top1(mine.Slice(t * vocab, vocab))) matches++;
        }
        double share = (double)matches / positions;
        var status = share >= RequiredTop1Share && !double.IsNaN(diff.Max) ? ParityStatus.Pass : ParityStatus.Fail;
        return new ParityCaseResult(testCase.Name, Kind, status, diff.Max, null, null,
            $"bf16: top-1 match {matches}/{positions} ({100 * share:F1}%, need {100 * RequiredTop1Share:F0}%); worst {diff.Worst}");
    }

    internal static int Top1(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best]) best = j;
        return best;
    }
}
