using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Pretrain;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class PretrainCheckpointScheduleTests
{
    // stanford-crfm/mistral's schedule over 400k steps: 0…100 by 10 (11), 150…2000 by 50 (38), 2100…20000 by 100 (180),
    // 21000…400000 by 1000 (380) = 609, checkpoint-0 included (the number).
    [Fact]
    public void Steps_MistralDefaultOver400kSteps_Exactly609IncludingCheckpoint0()
    {
        var schedule = CheckpointSchedule.Pretrain(PretrainConfigLoader.DefaultCheckpointFrequency);
        var steps = schedule.Steps(400_000).ToList();
        Assert.Equal(609, steps.Count);
        Assert.Equal(0, steps[0]);
        Assert.Equal([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200], steps.Take(13));
        Assert.Equal([1900, 1950, 2000, 2100, 2200], steps.SkipWhile(s => s < 1900).Take(5));
        Assert.Equal([19900, 20000, 21000, 22000], steps.SkipWhile(s => s < 19900).Take(4));
        Assert.Equal(400_000, steps[^1]);
    }

    [Fact]
    public void ShouldSave_FirstPairWithUntilAtLeastStepDecides()
    {
        var schedule = CheckpointSchedule.Pretrain([(10, 100), (50, 2000)]);
        Assert.True(schedule.ShouldSave(100, 5000));  // 100 ≤ 100: first pair, 100 % 10 == 0
        Assert.False(schedule.ShouldSave(110, 5000)); // 110 > 100: second pair, 110 % 50 != 0
        Assert.True(schedule.ShouldSave(150, 5000));
        Assert.False(schedule.ShouldSave(105, 5000));
    }

    [Fact]
    public void ShouldSave_PastLastUntil_LastEveryContinues()
    {
        var schedule = CheckpointSchedule.Pretrain([(10, 100), (50, 200)]);
        Assert.Equal([250, 300, 350], schedule.Steps(370).Where(s => s > 200));
    }

    [Fact]
    public void Steps_Pretrain_LastStepOnlyWhenTheScheduleSaysSo()
    {
        var schedule = CheckpointSchedule.Pretrain([(10, 100)]);
        Assert.Equal([0, 10, 20], schedule.Steps(25));
    }

    [Fact]
    public void ShouldSave_FinetuneReading_Unchanged()
    {
        var schedule = new CheckpointSchedule([(5, 20), (10, 40)]);
        Assert.True(schedule.ShouldSave(43, 43));   // the last step always
        Assert.False(schedule.ShouldSave(50, 60));  // nothing past the last until
        Assert.Equal([0, 5, 10, 15, 20, 30, 40, 43], schedule.Steps(43));
    }
}
