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
