using Mistral.Runtime.Generation;

namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "greedy": greedy generation of "prompts" in one batch with "max_tokens", "chunk_size" and "cache_slots" as the
/// case gives them and no EOS stop (the reference generate() has none). Tokens must equal "generated" [B, N] exactly;
/// logprobs are compared with "chosen_logprobs" [B, N] and, when present, "prompt{i}.generate_logprobs" (prompt
/// tokens 1.. then the generated ones, the reference generate()'s own list).
/// </summary>
public sealed class GreedyCaseKind : IParityCaseKind
{
    public string Kind => "greedy";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        var prompts = testCase.Prompts();
        int maxTokens = testCase.OptionalInt("max_tokens") ?? throw testCase.Error("field 'max_tokens' is missing");
        using var file = testCase.OpenFile(context.FixtureDir);
        bool hasPromptLogprobs = file.Contains("prompt0.generate_logprobs");

        var options = new GenerationOptions
        {
            MaxTokens = maxTokens,
            Sampling = SamplingOptions.Greedy,
            ChunkSize = testCase.OptionalInt("chunk_size"),
            CacheSlots = testCase.OptionalInt("cache_slots"),
            EosId = null,
            PromptLogprobs = hasPromptLogprobs,
        };
        var result = new Generator(context.Model).Generate(prompts, options);

        var expectedTokens = ParityCase.ReadInts(file, "generated");
        var actualTokens = result.Sequences.SelectMany(s => s.Tokens).ToArray();
        bool tokensEqual = expectedTokens.SequenceEqual(actualTokens);

        var diff = new WorstDiff();
        var expectedLogprobs = ParityCase.ReadFloats(file, "chosen_logprobs");
        var actualLogprobs = result.Sequences.SelectMany(s => s.Logprobs).ToArray();
        if (expectedLogprobs.Length != actualLogprobs.Length)
            return new ParityCaseResult(testCase.Name, Kind, ParityStatus.Fail, null, tokensEqual, testCase.AbsTolerance,
                $"produced {actualLogprobs.Length} tokens, the reference {expectedLogprobs.Length}");
        diff.Add("chosen_logprobs", expectedLogprobs, actualLogprobs);
        if (hasPromptLogprobs)
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
