using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training;

/// <summary>
/// The scalars of a checkpoint (state.json): completed optimizer steps, where the data loader stands, the dropout RNG,
/// tokens seen, and the LoRA shape so `merge` can fold adapters without the YAML (rank 0: a full-parameter run, whose
/// checkpoint holds every weight).
/// </summary>
public sealed record TrainingState(
    int Step,
    DataLoaderPosition DataPosition,
    ulong[] DropoutRngState,
    long TokensSeen,
    int LoraRank,
    float LoraScaling,
    string InitialModelPath);
