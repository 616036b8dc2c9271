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
        var (mq, mk, mv, my) = (Stored(op, "q", q), Stored(op, "k", k), Stored(op, "v", v), Stored(op, "y", y));
        var (ml, mdy) = (DeviceChecks.On(this, op, "lse", lse), Stored(op, "dY", dY));
        var (mdq, mdk, mdv) = (Stored(op, "dQ", dQ), Stored(op, "dK", dK), Stored(op, "dV", dV));
        OpContract.AttentionBackward(op, q, k, v, y, lse, dY, batch, config, dQ, dK, dV);
        if (batch.TotalTokens == 0) return;

        var operands = new AttentionOperands(ActivationDType, mq.Pointer, mk.Pointer, mv.Pointer, 0, 0, 0, my.Pointer, ml.Pointer);
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
        var (ml, mt, mw, mloss) = (Stored(op, "logits", logits), DeviceChecks.On(this, op, "targets", targets),
            DeviceChecks.On(this, op, "weights", weights), DeviceChecks.On(this, op, "losses", losses));
        OpContract.CrossEntropyForward(op, logits, targets, weights, losses);
        int tokens = logits.Shape[0];
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
        var (ml, mt, mw, md) = (Stored(op, "logits", logits), DeviceChecks.On(this, op, "targets", targets),
            DeviceChecks.On(this, op, "weights", weights), Stored(op, "dLogits", dLogits));
        OpContract.CrossEntropyBackward(op, logits, targets, weights, dLogits);
        CrossEntropyKernel.Backward(_device, ml.View, mt.View, mw.View, scale, md.View);
    }

    public double SumOfSquares(Tensor x)
    {
        var mx = DeviceChecks.On(this, "sum_of_squares", "x", x);
        OpContract.Float("sum_of_squares", "x", x);
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

    public double SumOfSquares(IReadOnlyList<Tensor> xs)
    {
        const string op = "sum_of_squares";
        var views = xs.Select((x, i) => DeviceChecks.On(this, op, $"x[{i}]", x).View).ToArray();
        OpContract.SumOfSquares(op, xs);
        var chunks = AdamWKernel.Chunks(views.Select(v => v.ElementCount).ToArray(),
            (t, start, count) => new AdamWKernel.Chunk(views[t].Pointer + (ulong)(start * sizeof(float)), 0, 0, 0, count, 0));
        if (chunks.Length == 0) return 0;
        var table = Pool.Rent(AdamWKernel.TableBytes(chunks.Length));
        var partials = Pool.Rent((long)chunks.Length * sizeof(double));
        try
        {
            return AdamWKernel.SumOfSquares(_device, chunks, table, partials.Cast<double>());
        }
        finally
        {
            Pool.Return(partials);
            Pool.Return(table);
        }
    }

    public void AdamWStep(IReadOnlyList<AdamWTensors> tensors, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        var views = tensors.Select((t, i) => (P: DeviceChecks.On(this, op, $"param[{i}]", t.Param).View, G: DeviceChecks.On(this, op, $"grad[{i}]", t.Grad).View,
            M: DeviceChecks.On(this, op, $"m[{i}]", t.M).View, V: DeviceChecks.On(this, op, $"v[{i}]", t.V).View)).ToArray();
        OpContract.AdamWStep(op, tensors, args);
        var decay = tensors.Select(t => AdamWKernel.DecayFactor(args, t.WeightDecay)).ToArray();
        var chunks = AdamWKernel.Chunks(views.Select(v => v.P.ElementCount).ToArray(), (t, start, count) =>
        {
            ulong offset = (ulong)(start * sizeof(float));
            var v = views[t];
            return new AdamWKernel.Chunk(v.P.Pointer + offset, v.G.Pointer + offset, v.M.Pointer + offset, v.V.Pointer + offset, count, decay[t]);
        });
        if (chunks.Length == 0) return;
        var table = Pool.Rent(AdamWKernel.TableBytes(chunks.Length));
        try
        {
            AdamWKernel.Step(_device, chunks, table, args);
        }
        finally
        {
            Pool.Return(table);   // stream order keeps the next user behind the launch that reads it
        }
    }

    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        var (p, g, mm, vv) = (DeviceChecks.On(this, op, "param", param), DeviceChecks.On(this, op, "grad", grad),
            DeviceChecks.On(this, op, "m", m), DeviceChecks.On(this, op, "v", v));
        OpContract.AdamWStep(op, param, grad, m, v, args);
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
