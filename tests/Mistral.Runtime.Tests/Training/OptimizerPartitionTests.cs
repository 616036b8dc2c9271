using Mistral.Runtime.Training;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>ZeRO-1's partition: greedy by size, largest first, to the least loaded rank (lowest on a tie), as PyTorch's ZeroRedundancyOptimizer.</summary>
public sealed class OptimizerPartitionTests
{
    // Worked by hand: 40 → r0; 30 → r1 (empty); 20 → r1 (30 < 40); 10 → r0 (40 < 50): loads 50 | 50.
    [Fact]
    public void Owners_WorldTwo_LargestFirstToLightestRank()
    {
        Assert.Equal([0, 0, 1, 1], OptimizerPartition.Owners([10, 40, 30, 20], 2));
    }

    // 40 → r0, 30 → r1, 20 → r2, then 10 → r2 (loads 40, 30, 20: r2 is lightest): loads 40 | 30 | 30.
    [Fact]
    public void Owners_WorldThree_FillsTheLightestRank()
    {
        Assert.Equal([2, 0, 1, 2], OptimizerPartition.Owners([10, 40, 30, 20], 3));
        Assert.Equal([40L, 30, 30], OptimizerPartition.Loads([10, 40, 30, 20], [2, 0, 1, 2], 3));
    }

    [Fact]
    public void Owners_WorldOne_OwnsEverything()
    {
        Assert.Equal([0, 0, 0], OptimizerPartition.Owners([3, 1, 2], 1));
    }

    [Fact]
    public void Owners_MoreRanksThanTensors_EachTensorOnItsOwnRankAndTheRestOwnNothing()
    {
        var owners = OptimizerPartition.Owners([5, 5], 4);
        Assert.Equal([0, 1], owners);
        Assert.Equal([5L, 5, 0, 0], OptimizerPartition.Loads([5, 5], owners, 4));
    }

    [Fact]
    public void Owners_EqualSizes_TiesBrokenByPositionNotBySortOrder()
    {
        Assert.Equal([0, 1, 0, 1, 0, 1], OptimizerPartition.Owners([7, 7, 7, 7, 7, 7], 2));
    }

    /// <summary>
    /// A LoRA-shaped list (A: r × in, B: out × r per projection, plus norms): every tensor owned exactly once, the same
    /// partition when computed again, and balanced within the greedy bound (max − min load ≤ the largest tensor).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Owners_LoraShapedList_DeterministicBalancedAndOwnedOnce(int world)
    {
        var sizes = new List<long>();
        for (int layer = 0; layer < 4; layer++)
        {
            foreach (var (input, output) in new[] { (64, 64), (64, 16), (64, 16), (64, 64), (64, 176), (176, 64), (64, 176) })
                sizes.AddRange([8L * input, 8L * output]);
            sizes.AddRange([64, 64]);
        }
        var owners = OptimizerPartition.Owners(sizes, world);
        Assert.Equal(owners, OptimizerPartition.Owners(sizes, world));
        Assert.Equal(sizes.Count, owners.Length);
        Assert.All(owners, o => Assert.InRange(o, 0, world - 1));
        var loads = OptimizerPartition.Loads(sizes, owners, world);
        Assert.Equal(sizes.Sum(), loads.Sum());
        Assert.True(loads.Max() - loads.Min() <= sizes.Max(), $"loads {string.Join(", ", loads)}");
    }
}
