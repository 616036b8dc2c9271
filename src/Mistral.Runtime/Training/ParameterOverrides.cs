using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training;

/// <summary>
/// What a forward uses on top of, or instead of, the model's stored weights: the LoRA adapters by module name and the
/// trainable copies by weight name. A <see cref="TrainingPass"/> holds one and records each op's backward; an inference
/// forward given one (<see cref="Models.ICausalLm.Forward(System.ReadOnlySpan{int}, Mistral.Kernels.Ops.AttentionBatch, ParameterOverrides)"/>)
/// applies it and records nothing: evaluation of a LoRA run without a tape.
/// </summary>
public sealed class ParameterOverrides(LoraAdapters? lora, IReadOnlyDictionary<string, TrainableParameter> trainable)
{
    /// <summary>The adapter of <paramref name="module"/> (e.g. "layers.0.attention.wq"), or null when it is not adapted.</summary>
    public LoraAdapter? Lora(string module) => lora?.Find(module);

    /// <summary>The trainable copy that replaces stored weight <paramref name="weightName"/>, or null (the stored weight).</summary>
    public TrainableParameter? Trainable(string weightName) => trainable.GetValueOrDefault(weightName);
}
