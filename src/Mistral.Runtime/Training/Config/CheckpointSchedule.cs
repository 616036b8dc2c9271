namespace Mistral.Runtime.Training.Config;

/// <summary>
/// When checkpoints are written: a list of (Every, Until) pairs read in order — step s is saved when s % Every == 0
/// for the first pair with s ≤ Until (the last pair's Until may be int.MaxValue). `ckpt_freq: 100` is the single pair
/// (100, ∞). Finetune's reading: nothing past the last Until, and the last step always gets one.
/// Pretraining's (`checkpoint_frequency`, stanford-crfm/mistral): <see cref="ExtendLastPair"/> keeps the last Every
/// going past its Until, and <see cref="AlwaysSaveLastStep"/> is off, so the folders are exactly the schedule's.
/// </summary>
public sealed record CheckpointSchedule(IReadOnlyList<(int Every, int Until)> Pairs)
{
    /// <summary>Steps past the last pair's Until are saved every last Every (false: not at all).</summary>
    public bool ExtendLastPair { get; init; }

    /// <summary>Step maxSteps is saved whatever the pairs say.</summary>
    public bool AlwaysSaveLastStep { get; init; } = true;

    public static CheckpointSchedule Every(int steps) => new([(steps, int.MaxValue)]);

    /// <summary>The pretraining reading of a `checkpoint_frequency` list (see the type's summary).</summary>
    public static CheckpointSchedule Pretrain(IReadOnlyList<(int Every, int Until)> pairs) =>
        new(pairs) { ExtendLastPair = true, AlwaysSaveLastStep = false };

    public bool ShouldSave(int step, int maxSteps)
    {
        if (AlwaysSaveLastStep && step == maxSteps) return true;
        foreach (var (every, until) in Pairs)
            if (step <= until)
                return every > 0 && step % every == 0;
        return ExtendLastPair && Pairs.Count > 0 && Pairs[^1].Every > 0 && step % Pairs[^1].Every == 0;
    }

    /// <summary>Every step in 0 … maxSteps (checkpoint-0 included when the schedule says so) that gets a checkpoint, in order.</summary>
    public IEnumerable<int> Steps(int maxSteps)
    {
        for (int step = 0; step <= maxSteps; step++)
            if (ShouldSave(step, maxSteps))
                yield return step;
    }
}
