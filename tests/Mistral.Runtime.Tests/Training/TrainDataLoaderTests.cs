using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Data;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class TrainDataLoaderTests
{
    private static List<TokenizedDocument> Docs(int n) =>
        Enumerable.Range(0, n).Select(i => new TokenizedDocument([1, 100 + i, 200 + i], [0, 1, 1])).ToList();

    [Fact]
    public void Next_SameSeedSameStream_DifferentSeedDifferentOrder()
    {
        var a = new TrainDataLoader(Docs(20), seqLen: 4, batchSize: 1, seed: 3);
        var b = new TrainDataLoader(Docs(20), seqLen: 4, batchSize: 1, seed: 3);
        var c = new TrainDataLoader(Docs(20), seqLen: 4, batchSize: 1, seed: 4);
        var sa = Enumerable.Range(0, 8).SelectMany(_ => a.Next().Inputs).ToArray();
        Assert.Equal(sa, Enumerable.Range(0, 8).SelectMany(_ => b.Next().Inputs).ToArray());
        Assert.NotEqual(sa, Enumerable.Range(0, 8).SelectMany(_ => c.Next().Inputs).ToArray());
    }

    [Fact]
    public void Next_EpochCoversEveryDocumentOnce_ThenReshuffles()
    {
        // 10 documents of 2 pairs, seq_len 4: 5 windows per epoch.
        var loader = new TrainDataLoader(Docs(10), seqLen: 4, batchSize: 1, seed: 1);
        var epoch0 = Enumerable.Range(0, 5).SelectMany(_ => loader.Next().Inputs).Where(t => t is >= 100 and < 200).ToArray();
        Assert.Equal(Enumerable.Range(100, 10), epoch0.Order());
        Assert.Equal(new DataLoaderPosition(0, 5), loader.Position);
        var epoch1 = Enumerable.Range(0, 5).SelectMany(_ => loader.Next().Inputs).Where(t => t is >= 100 and < 200).ToArray();
        Assert.Equal(new DataLoaderPosition(1, 5), loader.Position);
        Assert.Equal(Enumerable.Range(100, 10), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(3, 2)] // more ranks than micro-batches: rank 2 gets none
    [InlineData(3, 7)]
    public void NextStep_SlicesOfAllRanks_AreDisjointAndTogetherOneProcessStep(int worldSize, int microbatches)
    {
        var single = new TrainDataLoader(Docs(13), seqLen: 4, batchSize: 2, seed: 5);
        var ranks = Enumerable.Range(0, worldSize).Select(_ => new TrainDataLoader(Docs(13), seqLen: 4, batchSize: 2, seed: 5)).ToList();
        for (int step = 0; step < 3; step++)
        {
            var whole = single.NextStep(microbatches, 0, 1);
            var slices = ranks.Select((loader, r) => loader.NextStep(microbatches, r, worldSize)).ToList();
            Assert.Equal(whole.Local.SelectMany(b => b.Inputs), slices.SelectMany(s => s.Local).SelectMany(b => b.Inputs));
            Assert.All(slices, s => Assert.InRange(s.Local.Count, microbatches / worldSize, (microbatches + worldSize - 1) / worldSize));
            Assert.All(slices, s => Assert.Equal((whole.WeightSum, whole.TokenCount), (s.WeightSum, s.TokenCount)));
            Assert.All(ranks, loader => Assert.Equal(single.Position, loader.Position));
        }
    }

    [Fact]
    public void Position_ResumesTheSameStream()
    {
        var straight = new TrainDataLoader(Docs(7), seqLen: 4, batchSize: 3, seed: 9);
        for (int i = 0; i < 3; i++) straight.Next();
        var resumed = new TrainDataLoader(Docs(7), seqLen: 4, batchSize: 3, seed: 9, straight.Position);
        for (int i = 0; i < 4; i++)
            Assert.Equal(straight.Next().Inputs, resumed.Next().Inputs);
    }

    [Fact]
    public void Split_HoldsOutTheFractionDeterministically()
    {
        var docs = Enumerable.Range(0, 20).ToList();
        var (train, eval) = DatasetSplit.Split(docs, 0.1, seed: 5);
        Assert.Equal(2, eval.Count);
        Assert.Equal(18, train.Count);
        Assert.Equal(docs, train.Concat(eval).Order());
        Assert.Equal(eval, DatasetSplit.Split(docs, 0.1, seed: 5).Eval);
    }

    [Fact]
    public void Rng_StateRoundTrips()
    {
        var r = Xoshiro256StarStar.ForStream(42, 0);
        r.NextUInt64();
        var copy = Xoshiro256StarStar.FromState(r.State);
        Assert.Equal(r.NextUInt64(), copy.NextUInt64());
        float f = r.NextSingle();
        Assert.InRange(f, 0f, 1f);
        Assert.NotEqual(1f, f);
    }
}
