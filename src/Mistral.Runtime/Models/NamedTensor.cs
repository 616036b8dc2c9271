using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Models;

/// <summary>A weight of a model under its checkpoint name (e.g. "layers.0.attention_norm.weight").</summary>
public sealed record NamedTensor(string Name, Tensor Tensor);
