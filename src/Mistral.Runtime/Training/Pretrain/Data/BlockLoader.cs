using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Hands out block indices for training: each epoch is a permutation of the BlockCount blocks drawn from (seed, epoch),
/// and the epochs' permutations, one after another, are one global stream that the WorldSize ranks deal round-robin
/// (rank r takes stream entries r, r + W, r + 2W, …). A step of k micro-batches of b blocks on W ranks therefore takes
/// the stream's next W·k·b entries, exactly the blocks one process takes with W·k micro-batches, epoch ends included
/// (no block is left out when W does not divide BlockCount). Deterministic given (BlockCount, seed, world size, rank,
/// <see cref="Position"/>): a checkpoint saves Position and resume passes it back, without replaying the stream.
/// </summary>
public sealed class BlockLoader
{
    private const ulong ShuffleStream = 0x424C_4F43; // "BLOC": separates this shuffle from the seed's other users

    private readonly ulong _seed;
    private int[] _permutation = [];
    private int _permutationEpoch = -1;
    private long _next; // the stream entry the world's next block starts at (every rank agrees); this rank's is _next + Rank

    public BlockLoader(int blockCount, int batchSize, ulong seed, int worldSize = 1, int rank = 0, DataLoaderPosition position = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        if (blockCount < worldSize) throw new ArgumentException($"{blockCount} blocks cannot be shared by {worldSize} ranks", nameof(blockCount));
        BlockCount = blockCount;
        BatchSize = batchSize;
        WorldSize = worldSize;
        Rank = rank;
        _seed = seed;
        if (position.Epoch < 0 || position.Window < 0 || position.Window > blockCount)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"outside an epoch of {blockCount} blocks");
        _next = (long)position.Epoch * blockCount + position.Window;
        if (_next % worldSize != 0)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"not a position {worldSize} ranks stop at together");
    }

    public int BlockCount { get; }
    public int BatchSize { get; }
    public int WorldSize { get; }
    public int Rank { get; }

    /// <summary>
    /// Where the whole world stands in the stream (the same on every rank): Window counts the entries of Epoch handed
    /// out to all ranks together; an epoch just finished reads (epoch, BlockCount).
    /// </summary>
    public DataLoaderPosition Position => _next > 0 && _next % BlockCount == 0
        ? new DataLoaderPosition((int)(_next / BlockCount) - 1, BlockCount)
        : new DataLoaderPosition((int)(_next / BlockCount), (int)(_next % BlockCount));

    /// <summary>This rank's blocks of <paramref name="epoch"/>, in the order they are handed out (a new array).</summary>
    public int[] Order(int epoch)
    {
        var permutation = PermutationOf(epoch);
        long first = (long)epoch * BlockCount;
        int offset = (int)(((Rank - first) % WorldSize + WorldSize) % WorldSize); // the first entry of this epoch that is this rank's
        return Enumerable.Range(0, BlockCount).Where(i => i % WorldSize == offset).Select(i => permutation[i]).ToArray();
    }

    private int[] PermutationOf(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (_permutationEpoch != epoch)
        {
            _permutation = Enumerable.Range(0, BlockCount).ToArray();
            Xoshiro256StarStar.ForStream(_seed, ShuffleStream ^ ((ulong)epoch << 32)).Shuffle(_permutation);
            _permutationEpoch = epoch;
        }
        return _permutation;
    }

    /// <summary>The next BatchSize block indices; advances <see cref="Position"/>.</summary>
    public int[] Next()
    {
        var blocks = new int[BatchSize];
        for (int i = 0; i < BatchSize; i++, _next += WorldSize)
        {
            long entry = _next + Rank;
            blocks[i] = PermutationOf((int)(entry / BlockCount))[(int)(entry % BlockCount)];
        }
        return blocks;
    }
}
