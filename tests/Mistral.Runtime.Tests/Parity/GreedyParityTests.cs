using Mistral.Runtime.Cache;
using Mistral.Runtime.Generation;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Parity;

/// <summary>
/// Greedy generation against reference/greedy.safetensors: 3 prompts (5, 12, 14 tokens) in one batch, 20 tokens each,
/// 16 cache slots, so every sequence wraps its rolling cache. Tokens must be identical (no near-ties: the smallest
/// top-1/top-2 gap is 6.9e-3), logprobs within the fixture's 1e-4.
/// </summary>
public class GreedyParityTests(TinyModel model, ITestOutputHelper output) : IClassFixture<TinyModel>
{
    private readonly TinyModel _model = model;
    private const int MaxTokens = 20;

    [Theory]
    [InlineData(null)]   // each prompt in one piece, like the reference
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]      // prompt 0 (5 tokens) is used up after the first chunk
    [InlineData(20)]     // larger than the window
    public void Greedy_ReferenceBatch_SameTokensAndLogprobs(int? chunkSize)
    {
        var prompts = TinyModel.ReferencePrompts();
        Assert.Equal(16, RollingKvCache.SlotsFor(_model.Config, prompts.Max(p => p.Length), MaxTokens));
        Assert.All(prompts, p => Assert.True(p.Length + MaxTokens > 16, "the case must wrap the cache"));

        var options = new GenerationOptions { MaxTokens = MaxTokens, ChunkSize = chunkSize, EosId = null };
        var result = new Generator(_model.Model).Generate(prompts, options);

        var expectedTokens = TinyModel.ReferenceInts("greedy.safetensors", "generated");          // [3, 20]
        var expectedLogprobs = TinyModel.ReferenceFloats("greedy.safetensors", "chosen_logprobs"); // [3, 20]
        Assert.Equal(expectedTokens, result.Sequences.SelectMany(s => s.Tokens));
        Assert.All(result.Sequences, s => Assert.Equal(FinishReason.Length, s.Finish));
        var logprobs = result.Sequences.SelectMany(s => s.Logprobs).ToArray();
        TensorAssert.Close(expectedLogprobs, logprobs, TinyModel.ReferenceTolerance, what: "chosen_logprobs");
        output.WriteLine($"chunk {chunkSize?.ToString() ?? "none"}: max |logprob - reference| = {TensorAssert.MaxAbsDiff(expectedLogprobs, logprobs):E2}");
    }

    [Fact]
    public void Greedy_PromptLogprobs_MatchReferenceGenerateList()
    {
        var prompts = TinyModel.ReferencePrompts();
        var options = new GenerationOptions { MaxTokens = MaxTokens, CacheSlots = 16, EosId = null, PromptLogprobs = true };
        var result = new Generator(_model.Model).Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            var s = result.Sequences[i];
            Assert.Equal(prompts[i].Length - 1, s.PromptLogprobs!.Length);
            var expected = TinyModel.ReferenceFloats("greedy.safetensors", $"prompt{i}.generate_logprobs");
            TensorAssert.Close(expected, [.. s.PromptLogprobs, .. s.Logprobs], TinyModel.ReferenceTolerance, what: $"prompt{i}.generate_logprobs");
        }
    }

    [Fact]
    public void Greedy_PromptAlone_SameAsInTheBatch()
    {
        // Attention never crosses sequences, so a prompt's continuation does not depend on its batch mates.
        var prompts = TinyModel.ReferencePrompts();
        var expected = TinyModel.ReferenceInts("greedy.safetensors", "generated");
        var options = new GenerationOptions { MaxTokens = MaxTokens, EosId = null };
        var alone = new Generator(_model.Model).Generate([prompts[1]], options);
        Assert.Equal(expected.AsSpan(MaxTokens, MaxTokens).ToArray(), alone.Sequences[0].Tokens);
    }
}
