using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The training-only ops without a kernel yet: each throws <see cref="NotSupportedException"/> naming the op, so a
/// fine-tuning run on --device cuda fails at its first step with the op's name rather than a wrong number.
/// </summary>
public sealed partial class CudaOps
{
    private NotSupportedException Missing(string op) =>
        new($"{op} has no kernel on the {Name} device yet (training runs on --device cpu until it has)");

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config,
        Tensor dQ, Tensor dK, Tensor dV) => throw Missing("attention_backward");

    public double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses) => throw Missing("cross_entropy_forward");

    public void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits) => throw Missing("cross_entropy_backward");

    public double SumOfSquares(Tensor x) => throw Missing("sum_of_squares");

    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args) => throw Missing("adamw_step");
}
