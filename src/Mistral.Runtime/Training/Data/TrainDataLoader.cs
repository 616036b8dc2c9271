using Mistral.Runtime.Numerics;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// An endless stream of training micro-batches: each epoch shuffles the documents with (seed, epoch), packs them into
/// seq_len windows and hands out batchSize windows at a time, running on into the next epoch when one ends.
/// Deterministic given (documents, seed, position), so a checkpoint only needs <see cref="Position"/>.
/// </summary>
public sealed class TrainDataLoader
{
    private const ulong ShuffleStream = 0x5348_5546; // separates the shuffle's random stream from the other users of the seed

    private readonly IReadOnlyList<TokenizedDocument> _documents;
    private readonly int _seqLen;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private List<PackedWindow> _windows = [];
    private int _windowsEpoch = -1;

    public TrainDataLoader(IReadOnlyList<TokenizedDocument> documents, int seqLen, int batchSize, ulong seed, DataLoaderPosition position = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _documents = documents;
        _seqLen = seqLen;
        _batchSize = batchSize;
        _seed = seed;
        Position = position;
        if (WindowsOf(0).Count == 0) throw new ArgumentException("no training document has two or more tokens", nameof(documents));
    }

    public DataLoaderPosition Position { get; private set; }

    /// <summary>Windows of one epoch (documents in that epoch's shuffled order).</summary>
    public IReadOnlyList<PackedWindow> WindowsOf(int epoch)
    {
        if (_windowsEpoch != epoch)
        {
            var order = _documents.ToList();
            Xoshiro256StarStar.ForStream(_seed ^ (ulong)epoch, ShuffleStream).Shuffle(order);
            _windows = Packing.Pack(order, _seqLen);
            _windowsEpoch = epoch;
        }
        return _windows;
    }

    /// <summary>
    /// The micro-batches of one optimizer step for <paramref name="rank"/> of <paramref name="worldSize"/>: every rank
    /// draws all <paramref name="microbatches"/> of the step (so every rank's <see cref="Position"/> is the same) and
    /// keeps the contiguous share [r·M/N, (r+1)·M/N). The step's samples therefore do not depend on the world size:
    /// world N runs what one process runs with the same M, split into disjoint slices. When N does not divide M the
    /// shares differ by one (and are empty when N > M); the loss stays exact because its denominator is the whole step's.
    /// </summary>
    public StepBatches NextStep(int microbatches, int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(microbatches, 1);
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"not a rank of a world of {worldSize}");
        var all = Enumerable.Range(0, microbatches).Select(_ => Next()).ToList();
        int first = (int)((long)rank * microbatches / worldSize), end = (int)((long)(rank + 1) * microbatches / worldSize);
        return new StepBatches(all[first..end], all.Sum(b => b.WeightSum), all.Sum(b => b.TokenCount));
    }

    public TrainBatch Next()
    {
        var picked = new List<PackedWindow>(_batchSize);
        var (epoch, window) = Position;
        while (picked.Count < _batchSize)
        {
            var windows = WindowsOf(epoch);
            if (window >= windows.Count)
            {
                epoch++;
                window = 0;
                continue;
            }
            picked.Add(windows[window++]);
        }
        Position = new DataLoaderPosition(epoch, window);
        return TrainBatch.FromWindows(picked);
    }
}
