using Mistral.Kernels.Ops;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Cache;

public class RollingKvCacheTests(TinyModel model) : IClassFixture<TinyModel>
{
    private const double SameMathTolerance = 1e-5; // two fp32 evaluations of the same sums

    private static readonly MistralConfig Window8 = new(Dim: 8, NLayers: 2, HeadDim: 4, HiddenDim: 16, NHeads: 2, NKvHeads: 1,
        SlidingWindow: 8, NormEps: 1e-5f, VocabSize: 10, RopeTheta: 10000f);

    [Fact]
    public void Decode_PastTheWindow_EqualsBandedOneShotForward()
    {
        // Row 0 prefills 5 tokens, row 1 prefills 23 (more than the 16 slots); then both decode one token per step in
        // lockstep, from different positions, until row 1 leaves the batch and row 0 goes on alone. Every step's
        // logits must equal the one-shot forward's row at that position: decode with window W sees positions p-W+1..p.
        var prompts = TinyModel.RandomPrompts(seed: 21, 40, 30);
        int[] prefill = [5, 23];
        int vocab = model.Config.VocabSize;
        var oneShot = model.Download(model.Model.Forward(prompts.SelectMany(p => p).ToArray(),
            AttentionBatch.FromLengths(prompts.Select(p => p.Length).ToArray())));
        int[] oneShotOffset = [0, prompts[0].Length];

        using var cache = new RollingKvCache(model.Ops, model.Config, rows: 2, slots: 16);
        var first = cache.NextBatch([0, 1], prefill);
        model.Model.Forward(prompts[0][..5].Concat(prompts[1][..23]).ToArray(), first, cache, LogitsFor.LastTokens);

        int steps = 0;
        while (true)
        {
            var rows = Enumerable.Range(0, 2).Where(b => cache.Length(b) < prompts[b].Length).ToArray();
            if (rows.Length == 0) break;
            var tokens = rows.Select(b => prompts[b][cache.Length(b)]).ToArray();
            var positions = rows.Select(cache.Length).ToArray();
            var batch = cache.NextBatch(rows, Enumerable.Repeat(1, rows.Length).ToArray());
            var logits = model.Download(model.Model.Forward(tokens, batch, cache, LogitsFor.LastTokens));
            for (int i = 0; i < rows.Length; i++)
            {
                var expected = oneShot.AsSpan((oneShotOffset[rows[i]] + positions[i]) * vocab, vocab);
                TensorAssert.Close(expected, logits.AsSpan(i * vocab, vocab), SameMathTolerance, what: $"row {rows[i]} position {positions[i]}");
            }
            steps++;
        }
        Assert.Equal(35, steps);                     // row 0 decodes positions 5..39
        Assert.Equal(40, cache.Length(0));
        Assert.Equal(30, cache.Length(1));           // both wrapped the 16 slots more than once
    }

    [Fact]
    public void NextBatch_PacksRowsAtTheirPositions_AdvanceMovesThem()
    {
        using var ops = new Mistral.Kernels.Ops.Reference.CpuOps();
        using var cache = new RollingKvCache(ops, Window8, rows: 3, slots: 8);
        cache.Advance(cache.NextBatch([0, 2], [4, 2]));
        var step = cache.NextBatch([2, 0], [1, 3]);
        Assert.Equal([0, 1], step.TokenOffsets);
        Assert.Equal([1, 3], step.Lengths);
        Assert.Equal([2, 4], step.StartPositions);
        Assert.Equal([2, 0], step.CacheRows);
        Assert.Equal([2, 4, 5, 6], step.Positions());
        cache.Advance(step);
        Assert.Equal([7, 0, 3], Enumerable.Range(0, 3).Select(cache.Length));
        Assert.Equal(new Mistral.Kernels.Tensors.Shape(3, 8, 4), cache.Layer(1).Keys.Shape); // [rows, slots, Hkv·Dh]
        cache.Reset();
        Assert.Equal(0, cache.Length(0));
    }

    [Fact]
    public void ResetRow_ForgetsThatRowOnly_NextBatchStartsItAtZero()
    {
        using var ops = new Mistral.Kernels.Ops.Reference.CpuOps();
        using var cache = new RollingKvCache(ops, Window8, rows: 2, slots: 8);
        cache.Advance(cache.NextBatch([0, 1], [5, 3]));
        cache.Reset(0);
        Assert.Equal([0, 3], Enumerable.Range(0, 2).Select(cache.Length));
        Assert.Equal([0, 3], cache.NextBatch([0, 1], [2, 1]).StartPositions);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Reset(2));
    }

    [Fact]
    public void NextBatch_BadRequests_Throw()
    {
        using var ops = new Mistral.Kernels.Ops.Reference.CpuOps();
        using var cache = new RollingKvCache(ops, Window8, rows: 2, slots: 5);
        Assert.Throws<ArgumentException>(() => cache.NextBatch([0, 0], [1, 1]));            // a row twice
        Assert.Throws<ArgumentException>(() => cache.NextBatch([0], [0]));                  // no tokens
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.NextBatch([2], [1]));        // no such row
        // 5 slots < window 8: a sixth position would overwrite a key the window still needs.
        var e = Assert.Throws<InvalidOperationException>(() => cache.NextBatch([1], [6]));
        Assert.Contains("SlotsFor", e.Message);
        var stale = cache.NextBatch([0], [2]);
        cache.Advance(stale);
        Assert.Throws<InvalidOperationException>(() => cache.Advance(stale));               // the same step twice
    }

    [Theory]
    [InlineData(5, 3, 8)]     // fits: min(8, 8)
    [InlineData(3, 2, 5)]
    [InlineData(30, 20, 8)]   // capped at the window
    public void SlotsFor_IsLongestPlusNewTokens_CappedAtWindow(int longest, int maxTokens, int expected) =>
        Assert.Equal(expected, RollingKvCache.SlotsFor(Window8, longest, maxTokens));

    [Fact]
    public void Constructor_MoreSlotsThanWindow_Throws()
    {
        using var ops = new Mistral.Kernels.Ops.Reference.CpuOps();
        Assert.Throws<ArgumentOutOfRangeException>(() => new RollingKvCache(ops, Window8, rows: 1, slots: 9));
    }
}
