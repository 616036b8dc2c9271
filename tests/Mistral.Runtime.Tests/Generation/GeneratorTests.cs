using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Generation;

/// <summary>Stopping, validation and sampling through the whole generator on the fixture model.</summary>
public class GeneratorTests(TinyModel model) : IClassFixture<TinyModel>
{
    // The reference's greedy continuation of its prompt 0 (reference/greedy.safetensors "generated"[0]).
    private static int[] Prompt0 => TinyModel.ReferencePrompts()[0];
    private static int[] Greedy0 => TinyModel.ReferenceInts("greedy.safetensors", "generated")[..20];

    [Fact]
    public void Eos_StopsThatSequenceOnly_AndIsKept()
    {
        // Declare the 4th greedy token to be EOS: sequence 0 stops right after it, the other prompt runs to MaxTokens.
        int eos = Greedy0[3];
        Assert.DoesNotContain(eos, Greedy0[..3]);
        var prompts = new[] { Prompt0, TinyModel.ReferencePrompts()[1] };
        var result = new Generator(model.Model).Generate(prompts, new GenerationOptions { MaxTokens = 20, EosId = eos });
        Assert.Equal(Greedy0[..4], result.Sequences[0].Tokens);
        Assert.Equal(FinishReason.Eos, result.Sequences[0].Finish);
        var reference1 = TinyModel.ReferenceInts("greedy.safetensors", "generated")[20..40];
        int cut = Array.IndexOf(reference1, eos);
        Assert.Equal(cut < 0 ? reference1 : reference1[..(cut + 1)], result.Sequences[1].Tokens);
    }

    [Fact]
    public void Callback_SeesEveryTokenInOrder_AndCanStop()
    {
        var seen = new List<int>();
        var result = new Generator(model.Model).Generate([Prompt0], new GenerationOptions { MaxTokens = 20 }, (b, token) =>
        {
            Assert.Equal(0, b);
            seen.Add(token);
            return seen.Count < 6;
        });
        Assert.Equal(Greedy0[..6], seen);
        Assert.Equal(Greedy0[..6], result.Sequences[0].Tokens);
        Assert.Equal(FinishReason.Stop, result.Sequences[0].Finish);
        Assert.Equal(6, result.Timings.GeneratedTokens);
        Assert.Equal(Prompt0.Length, result.Timings.PromptTokens);
    }

    [Fact]
    public void MaxTokensZero_OnlyPrefills()
    {
        var result = new Generator(model.Model).Generate([Prompt0], new GenerationOptions { MaxTokens = 0 });
        Assert.Empty(result.Sequences[0].Tokens);
        Assert.Equal(FinishReason.Length, result.Sequences[0].Finish);
    }

    [Fact]
    public void Sampling_SameSeedSameTokens_DifferentSeedDifferentTokens()
    {
        int[] Run(ulong seed) => new Generator(model.Model).Generate([Prompt0], new GenerationOptions
        {
            MaxTokens = 12,
            Sampling = new SamplingOptions(Temperature: 1.5f, TopP: 0.95f, Seed: seed),
        }).Sequences[0].Tokens;
        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void EmptyPrompt_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Generator(model.Model).Generate([Prompt0, []], new GenerationOptions()));
        Assert.Contains("prompt 1 is empty", e.Message);
    }

    [Fact]
    public void PromptLongerThanContext_Throws_AndGenerationStopsAtContext()
    {
        using var shortContext = new MistralModel(model.Ops, model.Config with { ContextLength = 8 }, model.Loaded.Weights);
        var generator = new Generator(shortContext);
        var e = Assert.Throws<ArgumentException>(() => generator.Generate([new int[9]], new GenerationOptions()));
        Assert.Contains("context of 8", e.Message);
        // A 5-token prompt may grow to 8 positions: 3 new tokens, then Length.
        var result = generator.Generate([Prompt0], new GenerationOptions { MaxTokens = 20 });
        Assert.Equal(Greedy0[..3], result.Sequences[0].Tokens);
        Assert.Equal(FinishReason.Length, result.Sequences[0].Finish);
    }

    [Fact]
    public void CacheSlotsTooFewForTheWindow_Throws()
    {
        // 8 slots cannot hold the 16-key window of a 25-position sequence.
        Assert.Throws<InvalidOperationException>(() =>
            new Generator(model.Model).Generate([Prompt0], new GenerationOptions { MaxTokens = 20, CacheSlots = 8 }));
    }
}
