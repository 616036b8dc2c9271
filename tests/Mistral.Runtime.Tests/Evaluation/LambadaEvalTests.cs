using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Evaluation;
using Mistral.Runtime.Model;
using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Training.Data;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Evaluation;

/// <summary>
/// LAMBADA-style scoring on tiny-gpt2 against its reference runs: the forward logits of "The lighthouse keeper woke"
/// (reference/forward.safetensors) and the greedy continuation " marks marks" with its logprobs (greedy.safetensors).
/// </summary>
public sealed class LambadaEvalTests
{
    private const int Vocab = 50257;

    [Fact]
    public void Run_GreedyContinuationAsTarget_IsCorrectWithTheReferenceLoss()
    {
        // The reference's greedy run continues prompt 0 with 8849 (" marks") twice; chosen_logprobs are their logprobs.
        var chosen = ReferenceTensors.Floats(Fixtures.TinyGpt2Reference, "greedy.safetensors", "chosen_logprobs");
        var result = Run(new LambadaExample("The lighthouse keeper woke", "marks marks", "test.jsonl", 1));
        Assert.Equal(1, result.Correct);
        Assert.Equal(2, result.TargetTokens);
        double expected = -(chosen[0] + (double)chosen[1]) / 2;
        Assert.True(Math.Abs(result.Loss - expected) <= ReferenceCe.LogitsTolerance, $"loss {result.Loss} vs reference {expected}");
    }

    [Fact]
    public void Run_PromptsLastWord_MatchesTheReferenceLogitsRow()
    {
        // " woke" is token 3 of prompt 0: its CE and whether it is the argmax come from the reference logits row 2.
        var tokens = ReferenceTensors.Ints(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt0.tokens");
        var logits = ReferenceTensors.Floats(Fixtures.TinyGpt2Reference, "forward.safetensors", "prompt0.logits");
        double ce = ReferenceCe.FromLogits(logits, tokens, Vocab)[2];
        bool argmax = ReferenceCe.IsArgmax(logits, tokens, Vocab)[2];

        var result = Run(new LambadaExample("The lighthouse keeper", "woke", "test.jsonl", 1),
                         new LambadaExample("The lighthouse keeper woke", "marks", "test.jsonl", 2));
        Assert.Equal(argmax, result.PerExample[0].Correct);
        Assert.True(Math.Abs(result.PerExample[0].LossSum - ce) <= ReferenceCe.LogitsTolerance, $"CE {result.PerExample[0].LossSum} vs reference {ce}");
        Assert.True(result.PerExample[1].Correct);
    }

    [Fact]
    public void Run_ContextLongerThanMaxLength_CutsItOnTheLeft()
    {
        var result = Run(3, new LambadaExample("The lighthouse keeper woke", "marks", "test.jsonl", 1));
        Assert.Equal(1, result.Truncated);
        Assert.Equal(1, result.TargetTokens);
    }

    [Fact]
    public void Read_BadLines_NamesTheFileAndEachLine()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "lambada.jsonl");
        File.WriteAllText(path, "{\"context\": \"a b\", \"target\": \"c\"}\n\n{\"context\": \"a\"}\nnot json\n{\"context\": \"x\", \"target\": \" \"}\n");
        var e = Assert.Throws<DataFormatException>(() => LambadaFile.Read(path));
        Assert.StartsWith($"{path}: 3 of 4 lines are bad: lambada.jsonl:3: expected a \"target\" string; lambada.jsonl:4: not valid JSON", e.Message);
        Assert.Contains("lambada.jsonl:5: \"target\" is empty", e.Message);
    }

    [Fact]
    public void Read_GoodLines_KeepsContextTargetAndLineNumbers()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "lambada.jsonl");
        File.WriteAllText(path, "\n{\"context\": \"She opened the\", \"target\": \"door\"}\n{\"context\": \"He said \", \"target\": \"yes\"}\n");
        var examples = LambadaFile.Read(path);
        Assert.Equal([("She opened the door", 2), ("He said yes", 3)], examples.Select(x => (x.Joined, x.Line)));
    }

    private static LambadaResult Run(params LambadaExample[] examples) => Run(64, examples);

    private static LambadaResult Run(int maxLength, params LambadaExample[] examples)
    {
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops);
        return LambadaEval.Run(new TokenScorer(loaded.Model, 64), loaded.RequireTokenizer(), examples, maxLength);
    }
}
