using Mistral.Runtime.Training.Data;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class PackingTests
{
    private const int Bos = 1, Eos = 2;

    // A stand-in tokenizer: one id per character, 100 + the character's code, so tests can spell token lists.
    private static int[] Encode(string text) => text.Select(c => 100 + c).ToArray();

    [Fact]
    public void Tokenize_Instruct_UserTurnsInInstFormatEosAfterBotTurnsMaskOnlyBotTokens()
    {
        var doc = TrainingDocument.Instruct([new(true, "ab"), new(false, "c"), new(true, "d"), new(false, "ef")]);
        var t = TokenizedDocument.From(doc, Encode, Bos, Eos);
        int[] user1 = Encode("[INST] ab [/INST]"), user2 = Encode("[INST] d [/INST]");
        Assert.Equal([Bos, .. user1, 199, Eos, .. user2, 201, 202, Eos], t.Tokens);
        Assert.Equal([0, .. user1.Select(_ => 0), 1, 1, .. user2.Select(_ => 0), 1, 1, 1], t.LossMask.Select(b => (int)b));
    }

    [Fact]
    public void Tokenize_Pretrain_BosTextEosAllTrained()
    {
        var t = TokenizedDocument.From(TrainingDocument.Pretrain("xy"), Encode, Bos, Eos);
        Assert.Equal([Bos, 220, 221, Eos], t.Tokens);
        Assert.Equal([0, 1, 1, 1], t.LossMask.Select(b => (int)b));
    }

    [Fact]
    public void Pack_DocumentsSpanWindows_EachPieceIsItsOwnSequenceAndTargetsStayInTheirDocument()
    {
        // doc A: 6 tokens -> 5 (input, target) pairs; doc B: 4 tokens -> 3 pairs; seq_len 4.
        var a = new TokenizedDocument([10, 11, 12, 13, 14, 15], [0, 1, 0, 1, 1, 1]);
        var b = new TokenizedDocument([20, 21, 22, 23], [0, 0, 1, 1]);
        var w = Packing.Pack([a, b], seqLen: 4);
        Assert.Equal(2, w.Count);
        Assert.Equal([10, 11, 12, 13], w[0].Inputs);
        Assert.Equal([11, 12, 13, 14], w[0].Targets);
        Assert.Equal([1f, 0, 1, 1], w[0].Weights);
        Assert.Equal([4], w[0].SequenceLengths);
        // A's last pair (14 -> 15) starts window 1 as its own sequence, then B (never 15 -> 20).
        Assert.Equal([14, 20, 21, 22], w[1].Inputs);
        Assert.Equal([15, 21, 22, 23], w[1].Targets);
        Assert.Equal([1f, 0, 1, 1], w[1].Weights);
        Assert.Equal([1, 3], w[1].SequenceLengths);
    }

    [Fact]
    public void Pack_LastWindowMayBeShort_OneTokenDocumentsAreSkipped()
    {
        var w = Packing.Pack([new TokenizedDocument([5], [1]), new TokenizedDocument([1, 2, 3], [0, 1, 1])], seqLen: 8);
        Assert.Single(w);
        Assert.Equal([1, 2], w[0].Inputs);
        Assert.Equal([2], w[0].SequenceLengths);
    }

    [Fact]
    public void Pack_SeqLenBelowTwo_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Packing.Pack([], seqLen: 1));

    [Fact]
    public void Batch_PositionsRestartAtEveryPiece()
    {
        var w = Packing.Pack([new TokenizedDocument([1, 2, 3, 4], [0, 1, 1, 1]), new TokenizedDocument([1, 5, 6], [0, 1, 1])], seqLen: 4);
        // Window 0 = doc 1 (3 pairs) + the first pair of doc 2; window 1 = doc 2's second pair, cut off from its start.
        var batch = TrainBatch.FromWindows(w);
        Assert.Equal([0, 1, 2, 0, 0], batch.Attention.Positions());
        Assert.Equal([0, 3, 4], batch.Attention.TokenOffsets);
        Assert.Equal(5.0, batch.WeightSum);
    }
}
