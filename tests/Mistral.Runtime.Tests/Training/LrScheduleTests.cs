using Mistral.Runtime.Training;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class LrScheduleTests
{
    // Values worked out by hand from torch.optim.lr_scheduler.OneCycleLR's get_lr (two phases, 'cos' annealing,
    // div_factor 25, final_div_factor 1e4): with total 10 and pct_start 0.2 the warm-up phase ends at step 1 and the
    // annealing phase runs from step 1 to step 9, so step 5 is its midpoint and step 3 its first quarter.
    [Fact]
    public void OneCycle_MatchesTorchFormulaAtHandComputedPoints()
    {
        var s = new LrSchedule("one_cycle", 1.0, maxSteps: 10, pctStart: 0.2);
        double min = 1.0 / 25 / 1e4;
        Assert.Equal(0.04, s.At(0), 15);                                  // initial_lr = max_lr / 25
        Assert.Equal(1.0, s.At(1), 15);                                   // peak at the end of phase 1
        Assert.Equal((1 + min) / 2, s.At(5), 15);                         // cos(π/2) = 0
        Assert.Equal(min + (1 - min) / 2 * (1 + Math.Sqrt(0.5)), s.At(3), 15); // cos(π/4)
        Assert.Equal(min, s.At(9), 15);                                   // min_lr on the last step
    }

    [Fact]
    public void OneCycle_WarmUpMidpoint()
    {
        var s = new LrSchedule("one_cycle", 1e-4, maxSteps: 100, pctStart: 0.05); // phase 1 ends at step 4
        Assert.Equal(4e-6, s.At(0), 1e-18);
        Assert.Equal(5.2e-5, s.At(2), 1e-18); // halfway between 4e-6 and 1e-4
        Assert.Equal(1e-4, s.At(4), 1e-18);
    }

    [Fact]
    public void Cosine_LinearWarmupThenHalfCosineToZero()
    {
        var s = new LrSchedule("cosine", 2.0, maxSteps: 6, warmupSteps: 2);
        double[] expected = [1.0, 2.0, 2.0, 2.0 * (1 + Math.Sqrt(0.5)) / 2, 1.0, 2.0 * (1 - Math.Sqrt(0.5)) / 2, 0.0];
        for (int step = 0; step < expected.Length; step++)
            Assert.Equal(expected[step], s.At(step), 14);
    }

    [Fact]
    public void Constant_IsConstantAfterWarmup()
    {
        Assert.Equal([0.5, 1, 1, 1], Enumerable.Range(0, 4).Select(new LrSchedule("constant", 1, 4, warmupSteps: 2).At).ToArray());
        Assert.Equal(1e-3, new LrSchedule("constant", 1e-3, 5).At(4));
    }

    [Fact]
    public void UnknownKind_Throws() => Assert.Throws<ArgumentException>(() => new LrSchedule("linear", 1, 1));
}
