namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "forward": every prompt of "prompts" goes through ONE batched, cache-free forward (sequences packed);
/// the logits of prompt i [L_i, V] are compared with "prompt{i}.logits" of the case's file.
/// </summary>
public sealed class ForwardCaseKind : IParityCaseKind
{
    public string Kind => "forward";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        using var run = BatchedForwardRun.Start(testCase, context);
        var prompts = run.Prompts;
        var diff = new WorstDiff();
        bool tokensEqual = true;
        for (int i = 0; i < prompts.Length; i++)
        {
            var actual = run.Logits(i, out var expected);
            diff.Add($"prompt{i}.logits", expected, actual);
            if (run.File.Contains($"prompt{i}.tokens"))
                tokensEqual &= ParityCase.ReadInts(run.File, $"prompt{i}.tokens").SequenceEqual(prompts[i]);
        }
        return ParityCaseResult.Judge(testCase, diff.Max, tokensEqual, testCase.AbsTolerance, $"{prompts.Length} prompts in one batch; worst {diff.Worst}");
    }
}
