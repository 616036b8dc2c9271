namespace Mistral.Runtime.Training.Config;

/// <summary>
/// When checkpoints are written: a list of (Every, Until) pairs read in order — every Every steps while step ≤ Until
/// (the last pair's Until may be int.MaxValue). `ckpt_freq: 100` is the single pair (100, ∞). The last step always gets one.
/// </summary>
public sealed record CheckpointSchedule(IReadOnlyList<(int Every, int Until)> Pairs)
{
    public static CheckpointSchedule Every(int steps) => new([(steps, int.MaxValue)]);

    public bool ShouldSave(int step, int maxSteps)
    {
        if (step == maxSteps) return true;
        foreach (var (every, until) in Pairs)
            if (step <= until)
                return every > 0 && step % every == 0;
        return false;
    }
}
