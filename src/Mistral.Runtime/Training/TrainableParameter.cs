using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Training;

/// <summary>
/// One trained tensor: its reference name (e.g. "layers.0.attention.wq.lora_A.weight"), the fp32 value the forward
/// reads and AdamW updates in place, and its fp32 gradient (accumulated "+=" over a step's micro-batches).
/// </summary>
public sealed record TrainableParameter(string Name, Tensor Value, Tensor Grad);
