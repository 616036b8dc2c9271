namespace Mistral.Runtime.Training;

/// <summary>
/// Which rank owns each parameter's optimizer state under ZeRO-1, as PyTorch's ZeroRedundancyOptimizer partitions:
/// whole tensors, largest first, each to the rank holding the fewest elements so far (the lowest rank on a tie). A pure
/// function of the sizes and the world size, so every rank computes the same partition without talking, and a
/// checkpoint written by N ranks can be re-read by N ranks knowing which shard file holds what.
/// </summary>
public static class OptimizerPartition
{
    /// <summary>The owning rank of each of <paramref name="elementCounts"/>, in the order given.</summary>
    public static int[] Owners(IReadOnlyList<long> elementCounts, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        var owners = new int[elementCounts.Count];
        var load = new long[worldSize];
        // Stable by index on equal sizes: the order is the parameter list's, not the sort implementation's.
        foreach (int i in Enumerable.Range(0, elementCounts.Count).OrderByDescending(i => elementCounts[i]).ThenBy(i => i))
        {
            int lightest = 0;
            for (int r = 1; r < worldSize; r++)
                if (load[r] < load[lightest]) lightest = r;
            owners[i] = lightest;
            load[lightest] += elementCounts[i];
        }
        return owners;
    }

    /// <summary>Elements owned by each rank under <paramref name="owners"/>.</summary>
    public static long[] Loads(IReadOnlyList<long> elementCounts, IReadOnlyList<int> owners, int worldSize)
    {
        var load = new long[worldSize];
        for (int i = 0; i < owners.Count; i++) load[owners[i]] += elementCounts[i];
        return load;
    }
}
