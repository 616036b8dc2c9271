namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "greedy" for a bf16 run: greedy generation as <see cref="GreedyCaseKind"/> runs it, judged the way reduced
/// precision allows: every sequence's tokens must equal the reference's until the first step where the reference's
/// top-1/top-2 logit gap ("top2_gap" [B, N]) is a near-tie (below <see cref="NearTieGap"/>); after such a step the two
/// runs may legitimately differ. Reported: the tokens matched, and the first divergence with its reference gap.
/// </summary>
public sealed class Bf16GreedyCaseKind : IParityCaseKind
{
    /// <summary>
    /// A gap bf16 can close: logits of order 1-10 are held with a relative error of 2^-8 per rounding, and a few
    /// roundings in a row move a logit by ~0.05; 0.1 leaves a factor of two.
    /// </summary>
    public const double NearTieGap = 0.1;

    public string Kind => "greedy";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        using var run = GreedyRun.Start(testCase, context, promptLogprobs: false);
        var prompts = run.Prompts;
        int maxTokens = run.MaxTokens;
        var result = run.Result;
        var expected = run.ExpectedTokens;                                  // [B, N]
        var gaps = run.File.Contains("top2_gap") ? ParityCase.ReadFloats(run.File, "top2_gap") : null;

        int matched = 0, total = prompts.Length * maxTokens;
        bool pass = true;
        string first = "none";
        for (int b = 0; b < prompts.Length; b++)
        {
            var tokens = result.Sequences[b].Tokens;
            for (int s = 0; s < maxTokens; s++)
            {
                if (s < tokens.Length && tokens[s] == expected[b * maxTokens + s])
                {
                    matched++;
                    continue;
                }
                double gap = gaps?[b * maxTokens + s] ?? double.NaN;
                bool nearTie = gap < NearTieGap;
                pass &= nearTie;
                if (first == "none") first = $"sequence {b} step {s} (reference gap {gap:0.00e+00}{(nearTie ? ", a near-tie" : "")})";
                break;   // after a divergence the sequences run on different contexts
            }
        }
        return new ParityCaseResult(testCase.Name, Kind, pass ? ParityStatus.Pass : ParityStatus.Fail, null, matched == total, null,
            $"bf16: {matched}/{total} tokens equal to the reference, first divergence: {first}");
    }
}
