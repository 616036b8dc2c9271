using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Pretrain.Data;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class BlockLoaderTests
{
    [Fact]
    public void Next_OneEpoch_EveryBlockOnceInASeededOrder()
    {
        var loader = new BlockLoader(blockCount: 12, batchSize: 4, seed: 5);
        var epoch = Enumerable.Range(0, 3).SelectMany(_ => loader.Next()).ToArray();
        Assert.Equal(Enumerable.Range(0, 12), epoch.Order());
        Assert.NotEqual(Enumerable.Range(0, 12), epoch); // shuffled
        Assert.Equal(new DataLoaderPosition(0, 12), loader.Position);
        Assert.Equal(epoch, new BlockLoader(12, 4, 5).Order(0));
    }

    [Fact]
    public void Next_SameSeed_SameBlocks_OtherSeedOrEpoch_Different()
    {
        var a = new BlockLoader(100, 10, seed: 1);
        var b = new BlockLoader(100, 10, seed: 1);
        var c = new BlockLoader(100, 10, seed: 2);
        Assert.Equal(a.Next(), b.Next());
        Assert.NotEqual(a.Order(0), c.Order(0));
        Assert.NotEqual(a.Order(0), a.Order(1));
    }

    [Fact]
    public void Next_FromSavedPosition_ContinuesAsTheUninterruptedLoader()
    {
        var uninterrupted = new BlockLoader(10, 3, seed: 9);
        var all = Enumerable.Range(0, 8).Select(_ => uninterrupted.Next()).ToList(); // crosses epochs at 10 and 20
        var first = new BlockLoader(10, 3, seed: 9);
        for (int i = 0; i < 5; i++) first.Next();
        var resumed = new BlockLoader(10, 3, seed: 9, position: first.Position);
        Assert.Equal(new DataLoaderPosition(1, 5), first.Position);
        Assert.Equal(all.Skip(5), Enumerable.Range(0, 3).Select(_ => resumed.Next()));
    }

    [Fact]
    public void Next_BatchCrossingEpochEnd_TakesTheRestThenTheNextEpoch()
    {
        var loader = new BlockLoader(5, 3, seed: 3);
        loader.Next();
        var crossing = loader.Next();
        Assert.Equal([.. loader.Order(0)[3..], loader.Order(1)[0]], crossing);
        Assert.Equal(new DataLoaderPosition(1, 1), loader.Position);
    }

    [Fact]
    public void Order_Ranks_DealTheWholePermutationRoundRobin()
    {
        const int blocks = 103, world = 4;
        var slices = Enumerable.Range(0, world).Select(r => new BlockLoader(blocks, 2, seed: 11, world, r).Order(0)).ToList();
        Assert.Equal([26, 26, 26, 25], slices.Select(s => s.Length));
        var single = new BlockLoader(blocks, 2, seed: 11).Order(0);
        for (int r = 0; r < world; r++)
            Assert.Equal(single.Where((_, i) => i % world == r), slices[r]);
        // Epoch 1 starts at stream entry 103 = 4·25 + 3: rank 3 takes its first entry.
        Assert.Equal(new BlockLoader(blocks, 2, seed: 11).Order(1)[0], new BlockLoader(blocks, 2, seed: 11, world, 3).Order(1)[0]);
    }

    /// <summary>
    /// 7 blocks, not a multiple of the world: 3 ranks × 2 micro-batches × 1 block per step must take, step by step and
    /// across several epoch ends, the same blocks as 1 rank × 6 micro-batches, and every rank reports the same position.
    /// </summary>
    [Fact]
    public void Next_World3Accumulation2_SameBlocksPerStepAsWorld1Accumulation6AcrossEpochEnds()
    {
        var single = new BlockLoader(7, 1, seed: 4);
        var ranks = Enumerable.Range(0, 3).Select(r => new BlockLoader(7, 1, seed: 4, worldSize: 3, rank: r)).ToList();
        for (int step = 0; step < 8; step++)
        {
            var expected = Enumerable.Range(0, 6).SelectMany(_ => single.Next()).Order();
            var actual = ranks.SelectMany(rank => Enumerable.Range(0, 2).SelectMany(_ => rank.Next())).Order();
            Assert.Equal(expected, actual);
            Assert.All(ranks, rank => Assert.Equal(single.Position, rank.Position));
        }
        var resumed = new BlockLoader(7, 1, seed: 4, worldSize: 3, rank: 2, position: ranks[2].Position);
        Assert.Equal(ranks[2].Next(), resumed.Next());
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockLoader(10, 1, 0, worldSize: 2, rank: 2));
        Assert.Throws<ArgumentException>(() => new BlockLoader(1, 1, 0, worldSize: 2, rank: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockLoader(10, 1, 0, position: new DataLoaderPosition(0, 11)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockLoader(10, 1, 0, worldSize: 2, position: new DataLoaderPosition(0, 3)));
    }
}
