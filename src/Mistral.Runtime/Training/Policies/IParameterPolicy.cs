using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training.Policies;

/// <summary>
/// What a <see cref="TrainingModel"/> trains of its base model: the trainable tensors (each with its weight-decay group),
/// the <see cref="TrainingPass"/> that hands them to the modules, and how the model's working weights follow the fp32
/// masters after an update. <see cref="LoraPolicy"/>: adapters (and optionally the norms) over a frozen model;
/// <see cref="FullParameterPolicy"/>: every stored weight.
/// </summary>
public interface IParameterPolicy : IDisposable
{
    /// <summary>The trained tensors, each once, in a fixed order (the optimizer's, the gradient norm's, the checkpoint's).</summary>
    IReadOnlyList<TrainableParameter> Parameters { get; }

    /// <summary>The adapters the forward adds, or null when the policy trains no adapters.</summary>
    LoraAdapters? Lora { get; }

    /// <summary>What an evaluation forward applies on top of the model (no tape, no dropout).</summary>
    ParameterOverrides Overrides { get; }

    /// <summary>The pass of one training forward over <paramref name="tape"/> (dropout on, where the policy has any).</summary>
    TrainingPass Pass(Tape tape);

    /// <summary>Copies each fp32 master into the model's working weight where they are different tensors (after an update or an import).</summary>
    void SyncWorkingWeights();
}
