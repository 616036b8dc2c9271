namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// The `dataset` section: the files, globs already expanded (sorted, absolute). TrainFiles come from `dataset.files` or
/// `dataset.train_files`; ValidationFiles from `dataset.validation_files`. Without validation files, ValidationRatio of
/// the training documents is held out with the seed (ignored when validation files are given). NumProc: tokenizer
/// threads. MaxBadLineFraction: share of unusable lines above which loading stops.
/// </summary>
public sealed record PretrainDatasetConfig(
    IReadOnlyList<string> TrainFiles,
    IReadOnlyList<string> ValidationFiles,
    double ValidationRatio,
    int NumProc,
    double MaxBadLineFraction);
