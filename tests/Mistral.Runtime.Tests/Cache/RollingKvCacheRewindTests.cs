using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Cache;

/// <summary>Rewind undoes the host bookkeeping of a step that did not run (a failed CUDA graph capture), and only that.</summary>
public sealed class RollingKvCacheRewindTests
{
    private static readonly MistralConfig Config = new(Dim: 8, NLayers: 1, HeadDim: 4, HiddenDim: 8, NHeads: 2, NKvHeads: 1, SlidingWindow: 16,
        NormEps: 1e-5f, VocabSize: 10, RopeTheta: 10000f);

    [Fact]
    public void Rewind_AfterAdvance_RowsBackAtTheStepStart()
    {
        using var ops = new CpuOps();
        using var cache = new RollingKvCache(ops, Config, rows: 2, slots: 16);
        cache.Advance(cache.NextBatch([0, 1], [5, 3]));
        var step = cache.NextBatch([0, 1], [1, 1]);   // starts at 5 and 3
        cache.Advance(step);
        cache.Rewind(step);
        Assert.Equal(5, cache.Length(0));
        Assert.Equal(3, cache.Length(1));
        cache.Advance(step);                           // the same step can then run for real
        Assert.Equal(6, cache.Length(0));
    }

    [Fact]
    public void Rewind_WithoutAdvance_ChangesNothing()
    {
        using var ops = new CpuOps();
        using var cache = new RollingKvCache(ops, Config, rows: 1, slots: 16);
        cache.Advance(cache.NextBatch([0], [4]));
        cache.Rewind(cache.NextBatch([0], [2]));
        Assert.Equal(4, cache.Length(0));
    }
}
