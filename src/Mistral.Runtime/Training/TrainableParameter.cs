using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Training;

/// <summary>
/// One trained tensor: its reference name (e.g. "layers.0.attention.wq.lora_A.weight" or "h.0.mlp.c_fc.weight"), the
/// fp32 master value AdamW updates in place, and its fp32 gradient (accumulated "+=" over a step's micro-batches).
/// <paramref name="Decay"/>: whether AdamW's decoupled weight decay applies (false = Hugging Face Trainer's no-decay
/// group: biases and norm weights).
/// </summary>
public sealed record TrainableParameter(string Name, Tensor Value, Tensor Grad, bool Decay = true);
