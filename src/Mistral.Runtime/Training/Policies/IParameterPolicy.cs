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

    /// <summary>
    /// True when the model's own weights are what this policy trains (then an inference forward, no tape, computes the
    /// current loss); false when the trained tensors live beside the model (adapters) and only a pass applies them.
    /// </summary>
    bool TrainsModelWeights { get; }

    /// <summary>The pass of one forward over <paramref name="tape"/>; <paramref name="train"/> false: no dropout (evaluation).</summary>
    TrainingPass Pass(Tape tape, bool train);

    /// <summary>Copies each fp32 master into the model's working weight where they are different tensors (after an update or an import).</summary>
    void SyncWorkingWeights();
}
