using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>
/// The ops the models (Mistral.Runtime Modules/ and Models/) and the trainer are written against. One implementation per device: the CPU reference
/// (the oracle, fp32), CUDA, and CUDA emulated on the host. Argument order everywhere: inputs, scalars/config, outputs.
/// Outputs are overwritten unless the parameter says "+=" (gradient accumulation into parameters).
/// Legend: T = packed tokens, D = dim, H = heads, Hkv = kv heads, Dh = head dim, F = hidden dim, V = vocab.
/// All float tensors of one call share a dtype unless a method says otherwise; weights may be stored in a narrower
/// dtype than activations on devices that support it (the result of <see cref="Upload(ReadOnlySpan{byte}, DType, Shape, DType)"/>).
/// </summary>
public interface IOps : IDisposable
{
    /// <summary>"cpu", "cuda" or "emu".</summary>
    string Name { get; }

    /// <summary>The dtype activations are kept in (F32 on the CPU; BF16 or F32 on CUDA).</summary>
    DType ActivationDType { get; }

    /// <summary>What the ops can do because their tensors live on a device apart from the host; null on the CPU.</summary>
    IDeviceOps? OnDevice { get; }

    // ---- memory -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Bytes this ops could still allocate, as far as it can tell: what a memory estimate made from a config is
    /// compared with before a large allocation, so that a hostile size fails in milliseconds with both sizes named.
    /// The host's memory unless a device knows better.
    /// </summary>
    long AvailableMemoryBytes => HostMemory.TotalBytes;

    /// <summary>A new zero-filled tensor.</summary>
    Tensor Allocate(Shape shape, DType dtype);

    /// <summary>A new tensor from raw little-endian host bytes of <paramref name="sourceDType"/>, converted to <paramref name="dtype"/>.</summary>
    Tensor Upload(ReadOnlySpan<byte> data, DType sourceDType, Shape shape, DType dtype);

    Tensor Upload(ReadOnlySpan<float> data, Shape shape, DType dtype);
    Tensor Upload(ReadOnlySpan<int> data, Shape shape);

    /// <summary>Copies a float tensor (any float dtype, widened to fp32) to the host.</summary>
    void Download(Tensor src, Span<float> dst);
    void Download(Tensor src, Span<int> dst);

    /// <summary>dst = src element for element, converting dtype if they differ. Shapes must hold the same count.</summary>
    void Copy(Tensor src, Tensor dst);

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    void Fill(Tensor dst, float value);

    // ---- forward / backward pairs ---------------------------------------------------------------------------------

    /// <summary>y[t] = table[tokens[t]]. tokens I32 [T], table [V, D], y [T, D].</summary>
    void EmbeddingForward(Tensor tokens, Tensor table, Tensor y);
    /// <summary>dTable[tokens[t]] += dY[t].</summary>
    void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable);

    /// <summary>y = x / sqrt(mean(x²) + eps) · weight, per row. x, y [T, D], weight [D]; rstd [T] F32 (optional) saves 1/sqrt(..) for backward.</summary>
    void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd);
    /// <summary>dX = ∂/∂x (overwritten); dWeight += ∂/∂weight when given.</summary>
    void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight);

    /// <summary>
    /// y = (x − mean) / sqrt(var + eps) · weight + bias per row, biased variance over D (HF/PyTorch LayerNorm).
    /// x, y [T, D]; weight, bias [D]; mean, rstd F32 [T] optional (both or neither) saved for backward.
    /// </summary>
    void LayerNormForward(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y, Tensor? mean, Tensor? rstd);
    /// <summary>dX overwritten; dWeight += and dBias += when given (parameters accumulate, as RmsNormBackward's dWeight does).</summary>
    void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias);

    /// <summary>
    /// GELU. Tanh: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))) (HF gelu_new); Erf: 0.5·x·(1 + erf(x/√2)) (HF gelu).
    /// x, y [N] any shape (y may be x).
    /// </summary>
    void GeluForward(Tensor x, GeluApproximation approximation, Tensor y);
    /// <summary>dX = dY · gelu'(x), overwritten (dX may be dY).</summary>
    void GeluBackward(Tensor x, Tensor dY, GeluApproximation approximation, Tensor dX);

    /// <summary>y[t, j] = x[t, j] + bias[j]; x, y [T, N] (y may be x); bias [N].</summary>
    void BiasAdd(Tensor x, Tensor bias, Tensor y);
    /// <summary>dBias[j] += Σ_t dY[t, j], summed over t in a fixed order (deterministic). dY [T, N], dBias [N].</summary>
    void BiasBackward(Tensor dY, Tensor dBias);

    /// <summary>
    /// Row-major GEMM: c = alpha · op(a) · op(b) + beta · c, op(m) = mᵀ when its flag is set. A linear layer with weight
    /// W [out, in] is Gemm(x, false, W, true, y, 1, 0).
    /// </summary>
    void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha, float beta, Tensor c);

    /// <summary>
    /// ys[i] = x · weights[i]ᵀ for linear layers that read the same x [T, in] (q, k, v): exactly the
    /// <see cref="Gemm"/> calls, which a device may run as one launch when T is small. weights[i] [out_i, in], ys[i] [T, out_i].
    /// </summary>
    void Linears(Tensor x, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> ys)
    {
        if (weights.Count != ys.Count) throw new ArgumentException($"linears: {weights.Count} weights but {ys.Count} outputs");
        for (int i = 0; i < weights.Count; i++) Gemm(x, false, weights[i], true, 1f, 0f, ys[i]);
    }

    /// <summary>
    /// y += x · wᵀ (a residual add after a projection), the product rounded to y's dtype before the add: exactly Gemm
    /// into a tensor of its own then <see cref="Add"/>, which a device may run as one launch when T is small. The
    /// default, one GEMM with beta = 1, is that exactly on fp32 storage (the CPU). x [T, in], w [out, in], y [T, out].
    /// </summary>
    void LinearAdd(Tensor x, Tensor w, Tensor y) => Gemm(x, false, w, true, 1f, 1f, y);

    /// <summary>
    /// y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ), the SwiGLU MLP before its down projection: exactly Gemm into gate, Gemm into up,
    /// then <see cref="SwiGluForward"/>, which a device may run as one launch when T is small (gate and up then stay
    /// unwritten). x [T, D], w1, w3 [F, D], gate, up, y [T, F].
    /// </summary>
    void SwiGluLinear(Tensor x, Tensor w1, Tensor w3, Tensor gate, Tensor up, Tensor y)
    {
        Gemm(x, false, w1, true, 1f, 0f, gate);
        Gemm(x, false, w3, true, 1f, 0f, up);
        SwiGluForward(gate, up, y);
    }

    /// <summary>
    /// Rotary embedding on interleaved pairs (x[2i], x[2i+1]) within each head of width headDim, angle = positions[t] · theta^(-2i/headDim).
    /// x, y [T, heads·Dh] (y may be x); positions I32 [T].
    /// </summary>
    void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y);
    /// <summary>dX = rotation by -angle of dY (dX may be dY).</summary>
    void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX);

    /// <summary>
    /// Sliding-window causal attention with GQA. q [T, H·Dh], k/v [T, Hkv·Dh] (this chunk's keys, already rotated),
    /// y [T, H·Dh]. With a cache, each sequence also attends to the positions before its chunk still held in the cache
    /// (read in time order) — the cache is read, not written; call <see cref="KvCacheAppend"/> afterwards.
    /// lse [H, T] F32 (optional) saves the log-sum-exp of the scaled scores for backward.
    /// </summary>
    void AttentionForward(Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config, KvCacheLayer? cache, Tensor y, Tensor? lse);
    /// <summary>Backward of a cache-free <see cref="AttentionForward"/>: dQ, dK, dV overwritten.</summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV);

    /// <summary>Writes the last min(length, Slots) tokens of each sequence's chunk into slot position % Slots of its cache row.</summary>
    void KvCacheAppend(Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer cache);

    /// <summary>y = silu(gate) ⊙ up, silu(x) = x·sigmoid(x). gate, up, y [T, F].</summary>
    void SwiGluForward(Tensor gate, Tensor up, Tensor y);
    void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp);

    /// <summary>y = a + b (y may alias a or b).</summary>
    void Add(Tensor a, Tensor b, Tensor y);

    /// <summary>x ·= alpha in place.</summary>
    void Scale(Tensor x, float alpha);

    /// <summary>
    /// losses[t] = (logsumexp(logits[t]) - logits[t, targets[t]]) (unweighted); returns Σ weights[t]·losses[t].
    /// logits [T, V]; targets I32 [T]; weights F32 [T]; losses F32 [T].
    /// </summary>
    double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses);
    /// <summary>dLogits = (softmax(logits) - onehot(target)) · weights[t] · scale.</summary>
    void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits);

    /// <summary>ids[r] = argmax of row r (lowest index on ties). logits [R, V], ids I32 [R].</summary>
    void Argmax(Tensor logits, Tensor ids);

    /// <summary>Σ x² over all elements, in fp64 on the host side of the result (global gradient norm).</summary>
    double SumOfSquares(Tensor x);

    /// <summary>
    /// Σ over the tensors of Σ x² (the global gradient norm's square): fp32 tensors, squares accumulated in fp64. One
    /// reduction and one download for all of them on a device; on the CPU each tensor's fp64 sum added in order.
    /// </summary>
    double SumOfSquares(IReadOnlyList<Tensor> xs);

    /// <summary>One AdamW step (torch semantics, decoupled weight decay) on fp32 param, grad, m, v.</summary>
    void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args);

    /// <summary>
    /// One AdamW step of every tensor (one launch on a device), each exactly as the one-tensor step with
    /// args.WeightDecay replaced by the tensor's own <see cref="AdamWTensors.WeightDecay"/>.
    /// </summary>
    void AdamWStep(IReadOnlyList<AdamWTensors> tensors, AdamWStepArgs args);
}

/// <summary>Hyper-parameters of one AdamW step; Step counts from 1. GradScale multiplies the gradient first (clipping).</summary>
public readonly record struct AdamWStepArgs(float LearningRate, float Beta1, float Beta2, float Eps, float WeightDecay, int Step, float GradScale = 1f);
