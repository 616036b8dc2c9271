using Mistral.Kernels.Ops;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Generation;

/// <summary>
/// mistral-src test_chunks: prefilling through the rolling cache in chunks gives the logits of one cache-free forward,
/// for chunks smaller than, equal to and larger than the window (16), on a ragged batch whose prompts outgrow the
/// window and end in different chunks.
/// </summary>
public class ChunkedPrefillTests(TinyModel model) : IClassFixture<TinyModel>
{
    /// <summary>Two fp32 evaluations of the same sums (the cache path reads the same keys in the same time order).</summary>
    private const double SameMathTolerance = 1e-5;

    private static readonly int[][] Prompts = TinyModel.RandomPrompts(seed: 11, 40, 23, 1, 17);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(64)]
    public void ChunkedPrefill_EqualsOneShotForward(int chunk)
    {
        var oneShot = OneShotLogits(Prompts);
        using var cache = new RollingKvCache(model.Ops, model.Config, Prompts.Length, slots: model.Config.Window);
        var chunked = ChunkedLogits(Prompts, chunk, cache);
        for (int b = 0; b < Prompts.Length; b++)
            TensorAssert.Close(oneShot[b], chunked[b], SameMathTolerance, what: $"chunk {chunk}, prompt {b}");
    }

    [Fact]
    public void ChunkedPrefill_CacheSmallerThanWindow_EqualsOneShotForward()
    {
        // min(longest prompt + 0 new tokens, window) = 12 slots: the window never binds, nothing is overwritten.
        var prompts = TinyModel.RandomPrompts(seed: 12, 12, 7);
        int slots = RollingKvCache.SlotsFor(model.Config, 12, 0);
        Assert.Equal(12, slots);
        using var cache = new RollingKvCache(model.Ops, model.Config, prompts.Length, slots);
        var chunked = ChunkedLogits(prompts, 5, cache);
        var oneShot = OneShotLogits(prompts);
        for (int b = 0; b < prompts.Length; b++)
            TensorAssert.Close(oneShot[b], chunked[b], SameMathTolerance, what: $"prompt {b}");
    }

    /// <summary>Logits [L_b · V] of each prompt from one packed, cache-free forward (attention banded to the window).</summary>
    private float[][] OneShotLogits(int[][] prompts)
    {
        var batch = AttentionBatch.FromLengths(prompts.Select(p => p.Length).ToArray());
        var all = model.Download(model.Model.Forward(prompts.SelectMany(p => p).ToArray(), batch));
        int vocab = model.Config.VocabSize;
        return prompts.Select((p, b) => all.AsSpan(batch.TokenOffsets[b] * vocab, p.Length * vocab).ToArray()).ToArray();
    }

    /// <summary>The same logits, gathered chunk by chunk: all prompts cut at offsets 0, c, 2c, …</summary>
    private float[][] ChunkedLogits(int[][] prompts, int chunk, RollingKvCache cache)
    {
        int vocab = model.Config.VocabSize;
        var result = prompts.Select(p => new float[p.Length * vocab]).ToArray();
        for (int offset = 0; offset < prompts.Max(p => p.Length); offset += chunk)
        {
            var rows = Enumerable.Range(0, prompts.Length).Where(b => prompts[b].Length > offset).ToArray();
            var lengths = rows.Select(b => Math.Min(chunk, prompts[b].Length - offset)).ToArray();
            var tokens = rows.SelectMany((b, i) => prompts[b].Skip(offset).Take(lengths[i])).ToArray();
            var batch = cache.NextBatch(rows, lengths);
            var logits = model.Download(model.Model.Forward(tokens, batch, cache));
            for (int i = 0; i < rows.Length; i++)
                logits.AsSpan(batch.TokenOffsets[i] * vocab, lengths[i] * vocab).CopyTo(result[rows[i]].AsSpan(offset * vocab));
        }
        return result;
    }
}
