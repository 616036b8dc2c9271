using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Evaluation;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Runtime.Tests.Evaluation;

/// <summary>
/// Strided perplexity against the fixtures' Python numbers: tiny-gpt2's validation batch with its per-token CE at the
/// hf/ weights, and tiny-mistral's greedy run (generate()'s logprobs over 34 tokens, sliding window 16).
/// </summary>
public sealed class StridedPerplexityTests
{
    [Fact]
    public void Windows_StrideBelowLength_ScoresEveryTokenAfterTheFirstOnce()
    {
        // HF's loop over 10 tokens, max_length 4, stride 2: windows [0,4) [2,6) [4,8) [6,10); each scores what the
        // previous one did not reach.
        var windows = StridedPerplexity.Windows(10, 4, 2);
        Assert.Equal([new EvalWindow(0, 4, 1), new EvalWindow(2, 6, 4), new EvalWindow(4, 8, 6), new EvalWindow(6, 10, 8)], windows);
        Assert.Equal(Enumerable.Range(1, 9), windows.SelectMany(w => Enumerable.Range(w.ScoredFrom, w.ScoredCount)));
    }

    [Fact]
    public void Windows_StrideEqualsLength_LeavesEachLaterWindowsFirstTokenUnscored()
    {
        var windows = StridedPerplexity.Windows(10, 4, 4);
        Assert.Equal([new EvalWindow(0, 4, 1), new EvalWindow(4, 8, 5), new EvalWindow(8, 10, 9)], windows);
        Assert.Equal(7, windows.Sum(w => w.ScoredCount));
    }

    [Fact]
    public void Windows_OneTokenLeftOver_SkipsTheWindowWithNothingToPredict()
    {
        var windows = StridedPerplexity.Windows(9, 4, 4);
        Assert.Equal([new EvalWindow(0, 4, 1), new EvalWindow(4, 8, 5)], windows);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Run_WindowIsOneValidationRow_GivesTheReferencePerTokenCe(int row)
    {
        var (rows, ce, _) = ReferenceCe.Gpt2ValidationBatch();
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops);
        var result = StridedPerplexity.Run(new TokenScorer(loaded.Model, 32), rows[row], maxLength: 32, stride: 32);
        Assert.Equal(1, result.Windows);
        TensorAssert.Close(ce[row], result.TokenLosses, ReferenceCe.PerTokenTolerance);
    }

    [Theory]
    [InlineData(32)]   // one window per forward
    [InlineData(64)]   // both windows packed into one forward
    public void Run_BothRowsStrideEqualsWindow_GivesTheReferenceBatchLoss(int tokensPerForward)
    {
        // 64 tokens, windows [0,32) and [32,64): each is exactly one validation row read from position 0, and each
        // window's first token is unscored, so the 62 scored tokens are the reference's 2 × 31.
        var (rows, ce, loss) = ReferenceCe.Gpt2ValidationBatch();
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops);
        var result = StridedPerplexity.Run(new TokenScorer(loaded.Model, tokensPerForward), [.. rows[0], .. rows[1]], maxLength: 32, stride: 32);
        Assert.Equal(2, result.Windows);
        Assert.Equal(62, result.TokensScored);
        TensorAssert.Close([.. ce[0], .. ce[1]], result.TokenLosses, ReferenceCe.PerTokenTolerance);
        Assert.True(Math.Abs(result.Loss - loss) <= ReferenceCe.LossTolerance, $"loss {result.Loss} vs reference {loss}");
        Assert.Equal(Math.Exp(loss), result.Perplexity, Math.Exp(loss) * 2 * ReferenceCe.LossTolerance);
    }

    [Fact]
    public void Run_StrideBelowWindow_ScoresEachTokenOnceAndTheFirstWindowIsTheReference()
    {
        var (rows, ce, _) = ReferenceCe.Gpt2ValidationBatch();
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops);
        var result = StridedPerplexity.Run(new TokenScorer(loaded.Model, 32), [.. rows[0], .. rows[1]], maxLength: 32, stride: 8);
        Assert.Equal(63, result.TokensScored);          // every token but the first, once
        Assert.Equal(5, result.Windows);                // [0,32) [8,40) [16,48) [24,56) [32,64)
        TensorAssert.Close(ce[0], result.TokenLosses.AsSpan(0, 31).ToArray(), ReferenceCe.PerTokenTolerance);
        // The last window is row 1 read from position 0: its 8 scored tokens are row 1's last 8 reference CEs.
        TensorAssert.Close(ce[1][^8..], result.TokenLosses[^8..], ReferenceCe.PerTokenTolerance);
    }

    [Fact]
    public void Run_EmulatedDeviceFp32_GivesTheReferenceBatchLoss()
    {
        var (rows, ce, loss) = ReferenceCe.Gpt2ValidationBatch();
        using var ops = new CudaOps(TestDevices.Emulated(), DType.F32, ownsDevice: true);
        using var loaded = LoadedModel.Load(Fixtures.TinyGpt2Hf, ops, DType.F32);
        var result = StridedPerplexity.Run(new TokenScorer(loaded.Model, 64), [.. rows[0], .. rows[1]], maxLength: 32, stride: 32);
        TensorAssert.Close([.. ce[0], .. ce[1]], result.TokenLosses, ReferenceCe.PerTokenTolerance);
        Assert.True(Math.Abs(result.Loss - loss) <= ReferenceCe.LossTolerance, $"loss {result.Loss} vs reference {loss}");
    }

    [Fact]
    public void Run_MistralWindowsCoverTheSlidingWindow_GiveTheReferenceLogprobs()
    {
        // greedy.safetensors prompt 2: 14 prompt tokens + 20 generated = 34 tokens; generate_logprobs [33] is
        // log p(token t+1 | tokens <= t) under the rolling cache (window 16, 2 layers: a token's output depends on the
        // 2 x 15 tokens before it). Windows of 32 tokens advancing by 1 ([0,32) [1,33) [2,34)) hold that whole
        // receptive field for every token they score, and RoPE scores depend on relative positions only, so every
        // strided CE is the reference's -logprob although the windows start at different positions.
        var tokens = TinyModel.ReferenceInts("greedy.safetensors", "prompt2.tokens")
            .Concat(TinyModel.ReferenceInts("greedy.safetensors", "generated")[40..60]).ToArray();
        var expected = TinyModel.ReferenceFloats("greedy.safetensors", "prompt2.generate_logprobs").Select(lp => -lp).ToArray();
        using var model = TinyModel.Open(Fixtures.TinyHf);
        var result = StridedPerplexity.Run(new TokenScorer(model.Model, 64), tokens, maxLength: 32, stride: 1);
        Assert.Equal(3, result.Windows);
        TensorAssert.Close(expected, result.TokenLosses, ReferenceCe.LogitsTolerance);
    }
}
