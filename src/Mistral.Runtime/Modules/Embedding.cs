using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// y[t] = table[tokens[t]]; tokens I32 [T], table [V, D], y [T, D]. When the pass trains the table (a trainable named
/// <see cref="WeightName"/>), the backward scatters dY into its fp32 gradient, dTable[tokens[t]] += dY[t]
/// (IOps.EmbeddingBackward, deterministic); a frozen table records nothing.
/// </summary>
public sealed class Embedding(string weightName, Tensor table)
{
    public string WeightName { get; } = weightName;
    public Tensor Table { get; } = table;

    public void Forward(ForwardPass pass, Tensor tokens, Tensor y)
    {
        pass.Ops.EmbeddingForward(tokens, Table, y);
        if (pass.Train is not { } train || train.Trainable(WeightName) is not { } trained) return;
        var tape = train.Tape;
        tape.Record(() =>
        {
            if (tape.GradOf(y) is { } dY) tape.Ops.EmbeddingBackward(tokens, dY, trained.Grad);
        });
    }
}
