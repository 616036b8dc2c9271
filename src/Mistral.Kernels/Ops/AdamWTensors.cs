using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>
/// One trained tensor of a multi-tensor <see cref="IOps.AdamWStep(IReadOnlyList{AdamWTensors}, AdamWStepArgs)"/>: fp32
/// param, grad, m, v of one shape, and the weight decay of this tensor (it replaces the step's WeightDecay, so a
/// group of tensors without decay — norms, biases — shares the launch).
/// </summary>
public sealed record AdamWTensors(Tensor Param, Tensor Grad, Tensor M, Tensor V, float WeightDecay);
