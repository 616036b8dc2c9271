using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training;

/// <summary>
/// Learning rate for optimizer step index s = 0, 1, … (the rate the (s+1)-th update uses), for MaxSteps steps.
/// constant: Lr (after an optional linear warm-up). cosine: linear warm-up from Lr/WarmupSteps to Lr over WarmupSteps,
/// then Lr·½(1 + cos(π·(s − warmup)/(MaxSteps − warmup))) down to 0 at s = MaxSteps.
/// one_cycle: torch.optim.lr_scheduler.OneCycleLR(max_lr = Lr, total_steps = MaxSteps, pct_start, anneal 'cos',
/// div_factor 25, final_div_factor 1e4, three_phase False) — what mistral-finetune uses.
/// <see cref="HuggingFace"/> builds transformers' schedulers instead (`lr_scheduler_type` of the Trainer), whose warm-up
/// runs on a torch LambdaLR: step s uses Lr·s/warmup, so the first step runs at lr 0.
/// </summary>
public sealed class LrSchedule
{
    private const double OneCycleDivFactor = 25;
    private const double OneCycleFinalDivFactor = 1e4;

    private readonly string _kind;
    private readonly double _lr;
    private readonly int _warmup;
    private readonly int _maxSteps;
    private readonly double _pctStart;
    private readonly bool _huggingFace;

    /// <summary>The lr_scheduler_type values <see cref="HuggingFace"/> accepts.</summary>
    public static readonly IReadOnlyList<string> HuggingFaceTypes = ["linear", "cosine", "constant", "constant_with_warmup"];

    public LrSchedule(string kind, double lr, int maxSteps, int warmupSteps = 0, double pctStart = 0.05)
    {
        if (kind is not ("constant" or "cosine" or "one_cycle")) throw new ArgumentException($"unknown lr schedule '{kind}'", nameof(kind));
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "needs at least one step");
        _kind = kind;
        _lr = lr;
        _warmup = Math.Min(warmupSteps, maxSteps);
        _maxSteps = maxSteps;
        _pctStart = pctStart;
    }

    private LrSchedule(string kind, double lr, int maxSteps, int warmupSteps)
    {
        _kind = kind;
        _lr = lr;
        _warmup = warmupSteps;
        _maxSteps = maxSteps;
        _huggingFace = true;
    }

    /// <summary>
    /// transformers.get_scheduler(type, num_warmup_steps, num_training_steps) on base rate <paramref name="lr"/>:
    /// linear (get_linear_schedule_with_warmup), cosine (get_cosine_schedule_with_warmup, half a cycle),
    /// constant (no warm-up at all, whatever warmupSteps says) and constant_with_warmup.
    /// </summary>
    public static LrSchedule HuggingFace(string type, double lr, int maxSteps, int warmupSteps)
    {
        if (!HuggingFaceTypes.Contains(type)) throw new ArgumentException($"unknown lr_scheduler_type '{type}'", nameof(type));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        return new LrSchedule(type, lr, maxSteps, warmupSteps);
    }

    public static LrSchedule From(OptimConfig optim, int maxSteps) =>
        new(optim.Schedule, optim.Lr, maxSteps, optim.WarmupSteps, optim.PctStart);

    public double At(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (_huggingFace) return _lr * HuggingFaceFactor(step);
        return _kind switch
        {
            "constant" => step < _warmup ? _lr * (step + 1) / _warmup : _lr,
            "cosine" => step < _warmup
                ? _lr * (step + 1) / _warmup
                : _lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, (double)(step - _warmup) / Math.Max(1, _maxSteps - _warmup)))),
            _ => OneCycle(step),
        };
    }

    // The lr_lambda of transformers' schedulers, term for term (Python floats are doubles), so the rates match bit for bit.
    private double HuggingFaceFactor(int step)
    {
        if (_kind == "constant") return 1.0;
        if (step < _warmup) return (double)step / Math.Max(1, _warmup);
        double afterWarmup = Math.Max(1, _maxSteps - _warmup);
        return _kind switch
        {
            "linear" => Math.Max(0.0, (_maxSteps - step) / afterWarmup),
            "cosine" => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * ((step - _warmup) / afterWarmup)))),
            _ => 1.0, // constant_with_warmup
        };
    }

    // torch OneCycleLR.get_lr with two phases; step_num = last_epoch (0 for the first update).
    private double OneCycle(int step)
    {
        double initial = _lr / OneCycleDivFactor;
        double min = initial / OneCycleFinalDivFactor;
        double warmEnd = _pctStart * _maxSteps - 1;
        double end = _maxSteps - 1;
        if (step <= warmEnd)
            return warmEnd > 0 ? Cos(initial, _lr, step / warmEnd) : _lr; // torch divides 0 by 0 here; the peak is what it means
        return end > warmEnd ? Cos(_lr, min, Math.Min(1.0, (step - warmEnd) / (end - warmEnd))) : min;
    }

    private static double Cos(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);
}
