using Mistral.Kernels.Tensors;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training;

/// <summary>
/// What a model's forward needs to train, whatever the family: the tape every module records its backward on, the
/// LoRA adapters by module name, the trainable copies of stored weights by weight name (fp32 norm weights in LoRA
/// training) and the LoRA dropout. The modules (Modules/) own each op's forward and backward; inference never creates
/// one of these.
/// </summary>
public sealed class TrainingPass(Tape tape, LoraAdapters? lora, IReadOnlyDictionary<string, TrainableParameter> trainable,
    float loraDropout = 0f, Xoshiro256StarStar? dropoutRng = null)
{
    public Tape Tape { get; private set; } = tape;

    /// <summary>The adapters and trainable copies this pass applies (what an evaluation forward applies without a tape).</summary>
    public ParameterOverrides Overrides { get; } = new(lora, trainable);

    /// <summary>Dropout rate on the LoRA branch's input (0: none) and the RNG that draws its masks.</summary>
    public float LoraDropout { get; } = loraDropout;
    public Xoshiro256StarStar? DropoutRng { get; private set; } = dropoutRng;

    /// <summary>
    /// Activation recompute (gradient checkpointing): each block keeps only its input on <see cref="Tape"/> and runs
    /// its forward again in the backward (CausalLm). Less memory, one more block forward per block; same gradients.
    /// Settable, so whoever trains can switch it on a pass a parameter policy made.
    /// </summary>
    public bool Recompute { get; set; }

    /// <summary>
    /// This pass on another tape and dropout RNG, everything else shared (adapters, trained weights), without
    /// recompute: what a recomputed block runs on. A member-wise copy, so members added later come along.
    /// </summary>
    internal TrainingPass On(Tape tape, Xoshiro256StarStar? dropoutRng)
    {
        var copy = (TrainingPass)MemberwiseClone();
        copy.Tape = tape;
        copy.DropoutRng = dropoutRng;
        copy.Recompute = false;
        return copy;
    }

    /// <summary>A fresh tape-owned activation [dims], freed once no backward left to replay can read it (Tape).</summary>
    public Tensor Activation(params int[] dims) => Tape.NewActivation(dims);

    /// <summary>The adapter of <paramref name="module"/> (e.g. "layers.0.attention.wq"), or null when it is not adapted.</summary>
    public LoraAdapter? Lora(string module) => Overrides.Lora(module);

    /// <summary>The trainable copy that replaces stored weight <paramref name="weightName"/> in this pass, or null (frozen).</summary>
    public TrainableParameter? Trainable(string weightName) => Overrides.Trainable(weightName);
}
