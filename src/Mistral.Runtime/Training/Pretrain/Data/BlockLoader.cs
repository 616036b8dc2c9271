using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Hands out block indices for training: each epoch is a permutation of the BlockCount blocks drawn from (seed, epoch),
/// dealt round-robin to WorldSize ranks (rank r takes permutation entries r, r + W, r + 2W, …; the last
/// BlockCount mod W are left out so every rank sees the same number). A batch that runs past an epoch's end continues
/// with the next epoch's permutation. Deterministic given (BlockCount, seed, world size, rank, <see cref="Position"/>):
/// a checkpoint saves Position and resume passes it back, without replaying the stream.
/// </summary>
public sealed class BlockLoader
{
    private const ulong ShuffleStream = 0x424C_4F43; // "BLOC": separates this shuffle from the seed's other users

    private readonly ulong _seed;
    private int[] _order = [];
    private int _orderEpoch = -1;

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
        BlocksPerEpoch = blockCount / worldSize;
        if (position.Epoch < 0 || position.Window < 0 || position.Window > BlocksPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"outside an epoch of {BlocksPerEpoch} blocks");
        Position = position;
    }

    public int BlockCount { get; }
    public int BatchSize { get; }
    public int WorldSize { get; }
    public int Rank { get; }
    /// <summary>Blocks this rank sees per epoch.</summary>
    public int BlocksPerEpoch { get; }
    /// <summary>The next block to hand out: Window counts this rank's blocks within Epoch.</summary>
    public DataLoaderPosition Position { get; private set; }

    /// <summary>This rank's blocks of <paramref name="epoch"/>, in the order they are handed out (a copy).</summary>
    public int[] Order(int epoch) => (int[])OrderOf(epoch).Clone();

    private int[] OrderOf(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (_orderEpoch != epoch)
        {
            var permutation = Enumerable.Range(0, BlockCount).ToArray();
            Xoshiro256StarStar.ForStream(_seed, ShuffleStream ^ ((ulong)epoch << 32)).Shuffle(permutation);
            _order = new int[BlocksPerEpoch];
            for (int i = 0; i < BlocksPerEpoch; i++) _order[i] = permutation[i * WorldSize + Rank];
            _orderEpoch = epoch;
        }
        return _order;
    }

    /// <summary>The next BatchSize block indices; advances <see cref="Position"/>.</summary>
    public int[] Next()
    {
        var blocks = new int[BatchSize];
        var (epoch, index) = Position;
        for (int i = 0; i < BatchSize; i++)
        {
            if (index == BlocksPerEpoch) (epoch, index) = (epoch + 1, 0);
            blocks[i] = OrderOf(epoch)[index++];
        }
        Position = new DataLoaderPosition(epoch, index);
        return blocks;
    }
}
