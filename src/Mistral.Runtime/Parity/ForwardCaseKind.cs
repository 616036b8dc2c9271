using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

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
        var prompts = testCase.Prompts();
        using var file = testCase.OpenFile(context.FixtureDir);
        var model = context.Model;
        int vocab = model.Config.VocabSize;

        var batch = AttentionBatch.FromLengths(prompts.Select(p => p.Length).ToArray());
        var logits = model.Forward(prompts.SelectMany(p => p).ToArray(), batch);
        var actual = new float[logits.ElementCount];                       // [T, V]
        context.Ops.Download(logits, actual);

        var diff = new WorstDiff();
        bool tokensEqual = true;
        for (int i = 0; i < prompts.Length; i++)
        {
            var expected = ParityCase.ReadFloats(file, $"prompt{i}.logits");
            if (expected.Length != prompts[i].Length * vocab)
                throw new ParityFormatException(file.FilePath, $"prompt{i}.logits holds {expected.Length} values, expected {prompts[i].Length}×{vocab}");
            diff.Add($"prompt{i}.logits", expected, actual.AsSpan(batch.TokenOffsets[i] * vocab, expected.Length));
            if (file.Contains($"prompt{i}.tokens"))
                tokensEqual &= ParityCase.ReadInts(file, $"prompt{i}.tokens").SequenceEqual(prompts[i]);
        }
        return ParityCaseResult.Judge(testCase, diff.Max, tokensEqual, testCase.AbsTolerance, $"{prompts.Length} prompts in one batch; worst {diff.Worst}");
    }
}
