using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Parity;

/// <summary>
/// What the "greedy" kinds (fp32 and bf16) share: greedy generation of the case's "prompts" in one batch with
/// "max_tokens", "chunk_size" and "cache_slots" as the case gives them and no EOS stop (the reference generate() has
/// none), and the reference tokens "generated" [B, N]. The kinds differ only in how they judge the result.
/// </summary>
internal sealed class GreedyRun : IDisposable
{
    private GreedyRun(int[][] prompts, int maxTokens, SafeTensorsFile file, GenerationOptions options, GenerationResult result, int[] expectedTokens)
    {
        Prompts = prompts;
        MaxTokens = maxTokens;
        File = file;
        Options = options;
        Result = result;
        ExpectedTokens = expectedTokens;
    }

    public int[][] Prompts { get; }
    public int MaxTokens { get; }

    /// <summary>The case's file, for anything a kind reads besides "generated".</summary>
    public SafeTensorsFile File { get; }

    public GenerationOptions Options { get; }
    public GenerationResult Result { get; }

    /// <summary>"generated" [B, N].</summary>
    public int[] ExpectedTokens { get; }

    /// <param name="promptLogprobs">Also ask for prompt logprobs when the file has "prompt0.generate_logprobs" to compare them with.</param>
    public static GreedyRun Start(ParityCase testCase, ParityContext context, bool promptLogprobs)
    {
        var prompts = testCase.Prompts();
        int maxTokens = testCase.OptionalInt("max_tokens") ?? throw testCase.Error("field 'max_tokens' is missing");
        var file = testCase.OpenFile(context.FixtureDir);
        try
        {
            var options = new GenerationOptions
            {
                MaxTokens = maxTokens,
                Sampling = SamplingOptions.Greedy,
                ChunkSize = testCase.OptionalInt("chunk_size"),
                CacheSlots = testCase.OptionalInt("cache_slots"),
                EosId = null,
                PromptLogprobs = promptLogprobs && file.Contains("prompt0.generate_logprobs"),
            };
            var result = new Generator(context.Model).Generate(prompts, options);
            var expectedTokens = ParityCase.ReadInts(file, "generated");
            return new GreedyRun(prompts, maxTokens, file, options, result, expectedTokens);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => File.Dispose();
}
