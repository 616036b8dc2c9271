namespace Mistral.Runtime.Training.Config;

/// <summary>
/// Where the training text comes from (paths already resolved). Data = pretrain jsonl ({"text"}), InstructData = instruct
/// jsonl ({"interactions"}); either or both, each a comma-separated list of files in the YAML like mistral-finetune.
/// Without EvalInstructData, EvalFraction of the training documents is held out for evaluation.
/// MaxBadLineFraction: share of unparseable lines above which loading stops.
/// </summary>
public sealed record DataConfig(
    IReadOnlyList<string> Data,
    IReadOnlyList<string> InstructData,
    IReadOnlyList<string> EvalInstructData,
    double EvalFraction,
    double MaxBadLineFraction);
