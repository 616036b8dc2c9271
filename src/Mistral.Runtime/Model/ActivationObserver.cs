using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>
/// Receives intermediate activations of a forward pass, named as in the reference's debug dump
/// (forward_debug.safetensors): "embed"; per layer "layers.{i}." + attention_norm_out, q_rope [T, H·Dh],
/// k_rope and v [T, Hkv·Dh], attention_out (after wo, before the residual add), ffn_norm_out, ffn_out (after w2),
/// out (the residual stream after the block); then "norm_out". The tensor is a scratch buffer that is overwritten
/// later in the pass: download or copy it inside the call.
/// </summary>
public delegate void ActivationObserver(string name, Tensor value);

