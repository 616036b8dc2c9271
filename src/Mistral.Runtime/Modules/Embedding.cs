using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// y[t] = table[tokens[t]]; tokens I32 [T], table [V, D], y [T, D]. The table is frozen in LoRA training, so no
/// backward is recorded (a trainable table records IOps.EmbeddingBackward here).
/// </summary>
public sealed class Embedding(string weightName, Tensor table)
{
    public string WeightName { get; } = weightName;
    public Tensor Table { get; } = table;

    public void Forward(ForwardPass pass, Tensor tokens, Tensor y) => pass.Ops.EmbeddingForward(tokens, Table, y);
}
