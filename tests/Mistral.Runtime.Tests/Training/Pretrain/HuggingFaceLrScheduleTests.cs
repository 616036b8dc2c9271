using Mistral.Runtime.Model;
using Mistral.Runtime.Training;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class HuggingFaceLrScheduleTests
{
    // transformers/optimization.py's lr_lambda functions, written out again here from the library's source text (not
    // from LrSchedule): LambdaLR multiplies the base rate by lambda(last_epoch), last_epoch = 0 for the first step.
    private static double Linear(int step, int warmup, int total) =>
        step < warmup ? (double)step / Math.Max(1, warmup) : Math.Max(0.0, (double)(total - step) / Math.Max(1, total - warmup));

    private static double Cosine(int step, int warmup, int total)
    {
        if (step < warmup) return (double)step / Math.Max(1, warmup);
        double progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress)));
    }

    private static double ConstantWithWarmup(int step, int warmup) => step < warmup ? (double)step / Math.Max(1.0, warmup) : 1.0;

    [Fact]
    public void Linear_FixtureFullTrain_MatchesTheReferenceRates()
    {
        // tiny-gpt2 full_train: get_linear_schedule_with_warmup(warmup 2, total 5) on lr 1e-3, stored as fp32.
        using var steps = SafeTensorsFile.Open(Path.Combine(Fixtures.Root, "tiny-gpt2", "train", "steps.safetensors"));
        var expected = steps["lr"].ToFloat32();
        var schedule = LrSchedule.HuggingFace("linear", 1e-3, maxSteps: 5, warmupSteps: 2);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(s => (float)schedule.At(s)).ToArray());
        Assert.Equal(0.0, schedule.At(0)); // the first step runs at lr 0
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(3, 10)]
    [InlineData(10, 10)]
    [InlineData(7, 1000)]
    [InlineData(100, 100_000)]
    public void EveryType_MatchesTransformersFormulasBitForBit(int warmup, int total)
    {
        const double lr = 6e-4;
        var linear = LrSchedule.HuggingFace("linear", lr, total, warmup);
        var cosine = LrSchedule.HuggingFace("cosine", lr, total, warmup);
        var constant = LrSchedule.HuggingFace("constant", lr, total, warmup);
        var withWarmup = LrSchedule.HuggingFace("constant_with_warmup", lr, total, warmup);
        foreach (var step in new[] { 0, 1, 2, warmup - 1, warmup, warmup + 1, total / 3, total / 2, total - 1, total, total + 5 }.Where(s => s >= 0))
        {
            Assert.Equal(lr * Linear(step, warmup, total), linear.At(step));
            Assert.Equal(lr * Cosine(step, warmup, total), cosine.At(step));
            Assert.Equal(lr, constant.At(step));
            Assert.Equal(lr * ConstantWithWarmup(step, warmup), withWarmup.At(step));
        }
    }

    [Fact]
    public void Cosine_HandComputedPoints()
    {
        var s = LrSchedule.HuggingFace("cosine", 1.0, maxSteps: 6, warmupSteps: 2);
        Assert.Equal([0.0, 0.5, 1.0], Enumerable.Range(0, 3).Select(s.At));
        Assert.Equal(0.5, s.At(4), 15);   // halfway through the decay: cos(π/2)
        Assert.Equal(0.0, s.At(6), 15);
    }

    [Fact]
    public void UnknownType_Throws() => Assert.Throws<ArgumentException>(() => LrSchedule.HuggingFace("one_cycle", 1, 10, 0));
}
