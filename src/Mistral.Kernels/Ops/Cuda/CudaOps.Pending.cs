using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>TEMPORARY until the device layer's launchers land: every op here throws.</summary>
public sealed partial class CudaOps
{
    private static NotSupportedException Missing(string op) =>
        new($"{op} has no kernel on the cuda device yet (it runs on --device cpu)");

    public void EmbeddingForward(Tensor tokens, Tensor table, Tensor y) => throw Missing("embedding_forward");
    public void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable) => throw Missing("embedding_backward");
    public void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd) => throw Missing("rmsnorm_forward");
    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight) => throw Missing("rmsnorm_backward");
    public void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y) => throw Missing("rope_forward");
    public void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX) => throw Missing("rope_backward");
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV) => throw Missing("attention_backward");
    public void SwiGluForward(Tensor gate, Tensor up, Tensor y) => throw Missing("swiglu_forward");
    public void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp) => throw Missing("swiglu_backward");
    public void Add(Tensor a, Tensor b, Tensor y) => throw Missing("add");
    public void Scale(Tensor x, float alpha) => throw Missing("scale");
    public double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses) => throw Missing("cross_entropy_forward");
    public void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits) => throw Missing("cross_entropy_backward");
    public void Argmax(Tensor logits, Tensor ids) => throw Missing("argmax");
    public double SumOfSquares(Tensor x) => throw Missing("sum_of_squares");
    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args) => throw Missing("adamw_step");
    private void Cast(CudaTensor src, CudaTensor dst) => throw Missing("cast");
}
