namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "greedy": greedy generation as <see cref="GreedyRun"/> runs it ("prompts" in one batch, the case's "max_tokens",
/// "chunk_size" and "cache_slots", no EOS stop). Tokens must equal "generated" [B, N] exactly;
/// logprobs are compared with "chosen_logprobs" [B, N] and, when present, "prompt{i}.generate_logprobs" (prompt
/// tokens 1.. then the generated ones, the reference generate()'s own list).
/// </summary>
public sealed class GreedyCaseKind : IParityCaseKind
{
    public string Kind => "greedy";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        using var run = GreedyRun.Start(testCase, context, promptLogprobs: true);
        var prompts = run.Prompts;
        int maxTokens = run.MaxTokens;
        var options = run.Options;
        var result = run.Result;
        var file = run.File;

        var expectedTokens = run.ExpectedTokens;
        var actualTokens = result.Sequences.SelectMany(s => s.Tokens).ToArray();
        bool tokensEqual = expectedTokens.SequenceEqual(actualTokens);

        var diff = new WorstDiff();
        var expectedLogprobs = ParityCase.ReadFloats(file, "chosen_logprobs");
        var actualLogprobs = result.Sequences.SelectMany(s => s.Logprobs).ToArray();
        if (expectedLogprobs.Length != actualLogprobs.Length)
            return new ParityCaseResult(testCase.Name, Kind, ParityStatus.Fail, null, tokensEqual, testCase.AbsTolerance,
                $"produced {actualLogprobs.Length} tokens, the reference {expectedLogprobs.Length}");
        diff.Add("chosen_logprobs", expectedLogprobs, actualLogprobs);
        if (options.PromptLogprobs)
            for (int i = 0; i < prompts.Length; i++)
            {
                var s = result.Sequences[i];
                diff.Add($"prompt{i}.generate_logprobs", ParityCase.ReadFloats(file, $"prompt{i}.generate_logprobs"), [.. s.PromptLogprobs!, .. s.Logprobs]);
            }

        string cache = options.CacheSlots is int slots ? $"{slots} cache slots" : "default cache";
        string chunk = options.ChunkSize is int c ? $"chunk {c}" : "unchunked";
        return ParityCaseResult.Judge(testCase, diff.Max, tokensEqual, testCase.AbsTolerance,
            $"{prompts.Length}×{maxTokens} tokens, {cache}, {chunk}; worst {diff.Worst}");
    }
}
