using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// What only fine-tuning needs on the device: attention backward, the fused cross-entropy, the gradient norm and the
/// AdamW step (the layer ops' backward twins sit beside their forwards in CudaOps.Elementwise.cs). Optimizer state is
/// fp32 whatever the activation dtype.
/// </summary>
public sealed partial class CudaOps
{
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV)
    {
        const string op = "attention_backward";
        var dtype = ActivationDType;
        var (mq, mk, mv, my) = (DeviceChecks.Float(this, op, "q", q, dtype), DeviceChecks.Float(this, op, "k", k, dtype),
            DeviceChecks.Float(this, op, "v", v, dtype), DeviceChecks.Float(this, op, "y", y, dtype));
        var (ml, mdy) = (DeviceChecks.F32(this, op, "lse", lse), DeviceChecks.Float(this, op, "dY", dY, dtype));
        var (mdq, mdk, mdv) = (DeviceChecks.Float(this, op, "dQ", dQ, dtype), DeviceChecks.Float(this, op, "dK", dK, dtype), DeviceChecks.Float(this, op, "dV", dV, dtype));
        CheckAttentionShapes(op, q, k, v, batch, config);
        foreach (var (name, t, like, likeName) in new[] { ("y", y, q, "q"), ("dY", dY, q, "q"), ("dQ", dQ, q, "q"), ("dK", dK, k, "k"), ("dV", dV, v, "v") })
            DeviceChecks.SameShape(op, name, t, likeName, like);
        DeviceChecks.Count(op, "lse", lse, (long)config.NHeads * batch.TotalTokens, $"[{config.NHeads}, {batch.TotalTokens}] (heads × tokens)");
        if (batch.TotalTokens == 0) return;

        var operands = new AttentionOperands(dtype, mq.Pointer, mk.Pointer, mv.Pointer, 0, 0, 0, my.Pointer, ml.Pointer);
        var workspace = Pool.Rent(AttentionBackwardKernel.WorkspaceBytes(config, batch.TotalTokens));
        try
        {
            AttentionBackwardKernel.Backward(_device, operands, mdy.Pointer, UploadBatch(batch), config, workspace.Cast<float>(),
                mdq.Pointer, mdk.Pointer, mdv.Pointer);
        }
        finally
        {
            Pool.Return(workspace);   // stream order keeps the next user behind both kernels
        }
    }

    public double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses)
    {
        const string op = "cross_entropy_forward";
        var (ml, mt, mw, mloss) = (DeviceChecks.Float(this, op, "logits", logits, ActivationDType), DeviceChecks.Int(this, op, "targets", targets),
            DeviceChecks.F32(this, op, "weights", weights), DeviceChecks.F32(this, op, "losses", losses));
        DeviceChecks.That(logits.Shape.Rank == 2 && logits.Shape[1] > 0, op, $"logits {logits.Shape} must be [T, V]");
        int tokens = logits.Shape[0];
        DeviceChecks.Count(op, "weights", weights, tokens, $"[{tokens}] (one per row of logits {logits.Shape})");
        CrossEntropyKernel.Forward(_device, ml.View, mt.View, mloss.View);
        // Σ w·loss on the host in fp64, in token order, as the reference: T values each way, and the caller needs the
        // number on the host anyway. A target outside the vocab shows up here as a NaN loss.
        var loss = new float[tokens];
        var weight = new float[tokens];
        _device.CopyToHost(mloss.Memory.Cast<float>(), loss);
        _device.CopyToHost(mw.Memory.Cast<float>(), weight);
        double total = 0;
        for (int t = 0; t < tokens; t++)
        {
            if (float.IsNaN(loss[t])) throw new ArgumentException($"{op}: the target at [{t}] is outside the vocab of {logits.Shape[1]} (or logits row {t} holds a NaN)");
            total += (double)weight[t] * loss[t];
        }
        return total;
    }

    public void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits)
    {
        const string op = "cross_entropy_backward";
        var dtype = ActivationDType;
        var (ml, mt, mw, md) = (DeviceChecks.Float(this, op, "logits", logits, dtype), DeviceChecks.Int(this, op, "targets", targets),
            DeviceChecks.F32(this, op, "weights", weights), DeviceChecks.Float(this, op, "dLogits", dLogits, dtype));
        CrossEntropyKernel.Backward(_device, ml.View, mt.View, mw.View, scale, md.View);
    }

    public double SumOfSquares(Tensor x)
    {
        var mx = DeviceChecks.On(this, "sum_of_squares", "x", x);
        DeviceChecks.That(mx.DType is DType.F32 or DType.BF16, "sum_of_squares", $"x {x} must be F32 or BF16");
        if (x.ElementCount == 0) return 0;
        var partials = Pool.Rent(AdamWKernel.PartialCount(x.ElementCount) * sizeof(float));
        try
        {
            return AdamWKernel.SumOfSquares(_device, mx.View, partials.Cast<float>());
        }
        finally
        {
            Pool.Return(partials);
        }
    }

    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        var (p, g, mm, vv) = (DeviceChecks.F32(this, op, "param", param), DeviceChecks.F32(this, op, "grad", grad),
            DeviceChecks.F32(this, op, "m", m), DeviceChecks.F32(this, op, "v", v));
        foreach (var (name, t) in new[] { ("grad", grad), ("m", m), ("v", v) })
            DeviceChecks.SameShape(op, name, t, "param", param);
        DeviceChecks.That(args.Step >= 1, op, $"step {args.Step} must count from 1");
        AdamWKernel.Step(_device, p.View, g.View, mm.View, vv.View, args);
    }

    /// <summary>
    /// Trained parameters are fp32 (LoRA A/B, norm weights) while activations may be bf16, and each kernel and GEMM takes
    /// one storage dtype per call: such a parameter is rounded into a temporary of the activations' dtype for the call
    /// (r × in or D elements, small next to the activations), which the caller disposes. Null when the dtypes agree.
    /// </summary>
    private CudaTensor? AsStorage(CudaTensor t, DType dtype)
    {
        if (t.DType == dtype || !t.DType.IsFloat() || !dtype.IsFloat()) return null;
        var narrow = Rent(t.Shape, dtype);
        Cast(t, narrow);
        return narrow;
    }
}
