using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class AttentionRefTests
{
    public static TheoryData<string> AttentionCasesData => new(AttentionCases.Names);

    // fp32 scores, softmax and weighted sums over ≤ 64 keys of N(0,1) data vs fp64: a few ulps of values of order 1.
    private const double Abs = 2e-6, Rel = 2e-6;

    // The same computation split differently (chunks, decode steps, one sequence at a time) must give bit-identical
    // results: the oracle visits keys in the same time order either way.
    private const double SameOrderAbs = 0;

    private sealed record Inputs(float[] Q, float[] K, float[] V);

    private static Inputs RandomInputs(int seed, int tokens, AttentionConfig c)
    {
        var rng = new CaseRandom(seed);
        return new Inputs(rng.Normal(tokens * c.NHeads * c.HeadDim), rng.Normal(tokens * c.NKvHeads * c.HeadDim), rng.Normal(tokens * c.NKvHeads * c.HeadDim));
    }

    [Fact]
    public void Forward_HandChecked_TwoTokensOneHead()
    {
        // Dh = 1, scale = 1. Token 0 sees only itself: y0 = v0 = 3.
        // Token 1 sees keys 0 and 1 with scores q1·k = [1·0, 1·ln 3] -> softmax [1/4, 3/4] -> y1 = 0.25·3 + 0.75·7 = 6
        var config = new AttentionConfig(1, 1, 1, int.MaxValue);
        var batch = AttentionBatch.FromLengths([2]);
        var y = new float[2];
        var lse = new float[2];
        AttentionRef.Forward([5, 1], [0, MathF.Log(3)], [3, 7], batch, config, y, lse);
        TensorAssert.Close([3f, 6f], y, 1e-6, 0, "y");
        TensorAssert.Close([0f, MathF.Log(4)], lse, 1e-6, 0, "lse");   // lse1 = ln(e^0 + e^ln3) = ln 4
    }

    [Fact]
    public void Forward_WindowTwo_DropsTheOldestKey()
    {
        // Window 2: token 2 sees tokens 1 and 2 only (W keys including itself), equal scores -> mean of v1, v2.
        var config = new AttentionConfig(1, 1, 1, 2);
        var y = new float[3];
        AttentionRef.Forward([0, 0, 0], [1, 2, 3], [100, 10, 20], AttentionBatch.FromLengths([3]), config, y, []);
        Assert.Equal([100f, 55f, 15f], y);
    }

    [Theory]
    [InlineData(4, 4, 8, int.MaxValue, new[] { 13 })]          // MHA, plain causal
    [InlineData(4, 2, 16, 16, new[] { 23 })]                   // the tiny model's GQA 2:1, window binds
    [InlineData(8, 2, 5, 4, new[] { 17, 1, 9 })]               // GQA 4:1, odd head dim, window < sequence, ragged
    [InlineData(3, 1, 7, 3, new[] { 2, 11 })]                  // MQA
    [InlineData(2, 2, 3, 1, new[] { 6 })]                      // window 1: each token sees only itself
    public void Forward_AwkwardShapes_MatchDenseFp64(int heads, int kvHeads, int headDim, int window, int[] lengths)
    {
        var config = new AttentionConfig(heads, kvHeads, headDim, window);
        var batch = AttentionBatch.FromLengths(lengths);
        int T = batch.TotalTokens;
        var x = RandomInputs(heads * 100 + window, T, config);
        var y = new float[T * heads * headDim];
        var lse = new float[heads * T];
        AttentionRef.Forward(x.Q, x.K, x.V, batch, config, y, lse);

        var expectedLse = new double[heads * T];
        var expected = DenseAttention.Forward(FiniteDifference.ToDouble(x.Q), FiniteDifference.ToDouble(x.K), FiniteDifference.ToDouble(x.V),
            lengths, new int[lengths.Length], heads, kvHeads, headDim, window, expectedLse);
        TensorAssert.Close(FiniteDifference.ToSingle(expected), y, Abs, Rel, "y");
        TensorAssert.Close(FiniteDifference.ToSingle(expectedLse), lse, Abs, Rel, "lse");
    }

    [Fact]
    public void Forward_RaggedBatch_EqualsEachSequenceAlone()
    {
        var config = new AttentionConfig(4, 2, 6, 5);
        int[] lengths = [1, 17, 3, 9];
        var batch = AttentionBatch.FromLengths(lengths);
        var x = RandomInputs(77, batch.TotalTokens, config);
        var y = new float[x.Q.Length];
        AttentionRef.Forward(x.Q, x.K, x.V, batch, config, y, []);
        int qw = config.NHeads * config.HeadDim, kw = config.NKvHeads * config.HeadDim;
        for (int b = 0; b < lengths.Length; b++)
        {
            int off = batch.TokenOffsets[b], len = lengths[b];
            var alone = new float[len * qw];
            AttentionRef.Forward(x.Q.AsSpan(off * qw, len * qw), x.K.AsSpan(off * kw, len * kw), x.V.AsSpan(off * kw, len * kw),
                AttentionBatch.FromLengths([len]), config, alone, []);
            TensorAssert.Close(alone, y.AsSpan(off * qw, len * qw), SameOrderAbs, 0, $"sequence {b}");
        }
    }

    [Theory]
    [InlineData(new[] { 5, 1, 14, 17 })]   // a chunk longer than the window (W = 8), one of a single token
    [InlineData(new[] { 8, 8, 8, 13 })]    // chunks exactly the window
    [InlineData(new[] { 3, 20, 14 })]      // the second chunk alone overfills the cache
    public void Forward_ChunkedPrefillThroughCache_EqualsOneShot(int[] chunks)
    {
        // Two sequences chunked at the same offsets (the reference's rule), reading cache rows in reverse order.
        const int window = 8;
        var config = new AttentionConfig(4, 2, 5, window);
        int length = chunks.Sum();
        int qw = config.NHeads * config.HeadDim, kw = config.NKvHeads * config.HeadDim;
        var seq = new[] { RandomInputs(1, length, config), RandomInputs(2, length, config) };
        var oneShot = seq.Select(s =>
        {
            var y = new float[length * qw];
            AttentionRef.Forward(s.Q, s.K, s.V, AttentionBatch.FromLengths([length]), config, y, []);
            return y;
        }).ToArray();

        int slots = window;
        var cacheKeys = new float[2 * slots * kw];
        var cacheValues = new float[2 * slots * kw];
        int[] cacheRows = [1, 0];
        int start = 0;
        foreach (int c in chunks)
        {
            var q = seq.SelectMany(s => s.Q.Skip(start * qw).Take(c * qw)).ToArray();
            var k = seq.SelectMany(s => s.K.Skip(start * kw).Take(c * kw)).ToArray();
            var v = seq.SelectMany(s => s.V.Skip(start * kw).Take(c * kw)).ToArray();
            var batch = new AttentionBatch([0, c], [c, c], [start, start], cacheRows);
            var y = new float[2 * c * qw];
            AttentionRef.Forward(q, k, v, batch, config, new KvCacheSpans(cacheKeys, cacheValues, slots), y, []);
            KvCacheRef.Append(k, v, batch, kw, slots, cacheKeys, cacheValues);
            for (int b = 0; b < 2; b++)
                TensorAssert.Close(oneShot[b].AsSpan((start) * qw, c * qw), y.AsSpan(b * c * qw, c * qw), SameOrderAbs, 0,
                    $"sequence {b}, chunk at {start} (+{c})");
            start += c;
        }
    }

    [Fact]
    public void Forward_DecodeWithWrappedCache_EqualsBandedOneShot()
    {
        // Prefill 3 tokens, then decode one token at a time to position 29 with 6 slots = window 6: the cache wraps 4 times.
        const int window = 6, prompt = 3, length = 30;
        var config = new AttentionConfig(4, 1, 8, window);
        int qw = config.NHeads * config.HeadDim, kw = config.NKvHeads * config.HeadDim;
        var x = RandomInputs(3, length, config);
        var oneShot = new float[length * qw];
        AttentionRef.Forward(x.Q, x.K, x.V, AttentionBatch.FromLengths([length]), config, oneShot, []);

        var cacheKeys = new float[window * kw];
        var cacheValues = new float[window * kw];
        var cache = new KvCacheSpans(cacheKeys, cacheValues, window);
        for (int start = 0, len = prompt; start < length; start += len, len = 1)
        {
            var batch = new AttentionBatch([0], [len], [start]);
            var q = x.Q.AsSpan(start * qw, len * qw);
            var k = x.K.AsSpan(start * kw, len * kw);
            var v = x.V.AsSpan(start * kw, len * kw);
            var y = new float[len * qw];
            AttentionRef.Forward(q, k, v, batch, config, cache, y, []);
            KvCacheRef.Append(k, v, batch, kw, window, cacheKeys, cacheValues);
            TensorAssert.Close(oneShot.AsSpan(start * qw, len * qw), y, SameOrderAbs, 0, $"position {start}");
        }
    }

    [Theory]
    [MemberData(nameof(AttentionCasesData))]
    public void Forward_Cases_MatchDenseFp64OverHistoryAndChunk(string name)
    {
        // With a cache, the dense reference sees one longer sequence per batch entry: the min(start, S) positions the
        // cache still holds (keys/values read from their slots, queries zero and ignored), followed by the chunk.
        var c = AttentionCases.Get(name);
        var config = c.Config;
        var batch = c.Batch();
        var data = c.Build();
        int T = c.Tokens, qw = c.NHeads * c.HeadDim, kw = c.NKvHeads * c.HeadDim;
        var y = new float[T * qw];
        var lse = new float[c.NHeads * T];
        var cache = new KvCacheSpans(data.CacheKeys, data.CacheValues, c.CacheSlots);
        AttentionRef.Forward(data.Q, data.K, data.V, batch, config, cache, y, lse);

        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int start = batch.StartPositions[b], len = batch.Lengths[b], off = batch.TokenOffsets[b];
            int history = c.HasCache ? Math.Min(start, c.CacheSlots) : 0;
            int total = history + len;
            var q = new double[total * qw];
            var k = new double[total * kw];
            var v = new double[total * kw];
            for (int h = 0; h < history; h++)
            {
                int position = start - history + h;
                int at = (batch.CacheRows[b] * c.CacheSlots + position % c.CacheSlots) * kw;
                for (int e = 0; e < kw; e++) { k[h * kw + e] = data.CacheKeys[at + e]; v[h * kw + e] = data.CacheValues[at + e]; }
            }
            for (int t = 0; t < len; t++)
            {
                for (int e = 0; e < qw; e++) q[(history + t) * qw + e] = data.Q[(off + t) * qw + e];
                for (int e = 0; e < kw; e++) { k[(history + t) * kw + e] = data.K[(off + t) * kw + e]; v[(history + t) * kw + e] = data.V[(off + t) * kw + e]; }
            }
            var denseLse = new double[c.NHeads * total];
            var dense = DenseAttention.Forward(q, k, v, [total], [start - history], c.NHeads, c.NKvHeads, c.HeadDim, c.Window, denseLse, c.ScoreScale);
            var expected = FiniteDifference.ToSingle(dense.Skip(history * qw).ToArray());
            TensorAssert.Close(expected, y.AsSpan(off * qw, len * qw), Abs, Rel, $"{name}: y of sequence {b}");
            for (int h = 0; h < c.NHeads; h++)
                TensorAssert.Close(FiniteDifference.ToSingle(denseLse.Skip(h * total + history).Take(len).ToArray()), lse.AsSpan(h * T + off, len),
                    Abs, Rel, $"{name}: lse of sequence {b}, head {h}");
        }
    }
}
