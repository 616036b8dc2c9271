using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>The backward twins, the loss and the optimizer: what fine-tuning calls on the cpu device.</summary>
public sealed partial class CpuOps
{
    public void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable)
    {
        const string op = "embedding_backward";
        var (ids, grad, dTab) = (Host(op, "tokens", tokens), Host(op, "dY", dY), Host(op, "dTable", dTable));
        OpContract.Embedding(op, tokens, dTable, "dTable", dY, "dY");
        OpContract.TokenIds(op, ids.Ints, dTable.Shape[0]);
        EmbeddingRef.Backward(ids.Ints, grad.Floats, dTable.Shape[1], dTab.Floats);
        dTab.RoundToStorage();
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight)
    {
        const string op = "rmsnorm_backward";
        var (input, w, saved) = (Host(op, "x", x), Host(op, "weight", weight), Host(op, "rstd", rstd));
        var (grad, dInput) = (Host(op, "dY", dY), Host(op, "dX", dX));
        var dW = dWeight is null ? null : Host(op, "dWeight", dWeight);
        OpContract.RmsNormBackward(op, x, weight, rstd, dY, dX, dWeight);
        RmsNormRef.Backward(input.Floats, w.Floats, saved.Floats, grad.Floats, dInput.Floats, dW is null ? [] : dW.Floats);
        dInput.RoundToStorage();
        dW?.RoundToStorage();
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias)
    {
        const string op = "layernorm_backward";
        var (input, w, savedMean, savedRstd) = (Host(op, "x", x), Host(op, "weight", weight), Host(op, "mean", mean), Host(op, "rstd", rstd));
        var (grad, dInput) = (Host(op, "dY", dY), Host(op, "dX", dX));
        var (dW, dB) = (dWeight is null ? null : Host(op, "dWeight", dWeight), dBias is null ? null : Host(op, "dBias", dBias));
        OpContract.LayerNormBackward(op, x, weight, mean, rstd, dY, dX, dWeight, dBias);
        LayerNormRef.Backward(input.Floats, w.Floats, savedMean.Floats, savedRstd.Floats, grad.Floats, dInput.Floats, dW is null ? [] : dW.Floats, dB is null ? [] : dB.Floats);
        dInput.RoundToStorage();
        dW?.RoundToStorage();
        dB?.RoundToStorage();
    }

    public void GeluBackward(Tensor x, Tensor dY, GeluApproximation approximation, Tensor dX)
    {
        const string op = "gelu_backward";
        var (input, grad, dInput) = (Host(op, "x", x), Host(op, "dY", dY), Host(op, "dX", dX));
        OpContract.Gelu(op, x, ("dY", dY), ("dX", dX));
        GeluRef.Backward(input.Floats, grad.Floats, approximation, dInput.Floats);
        dInput.RoundToStorage();
    }

    public void BiasBackward(Tensor dY, Tensor dBias)
    {
        const string op = "bias_backward";
        var (grad, dB) = (Host(op, "dY", dY), Host(op, "dBias", dBias));
        OpContract.BiasBackward(op, dY, dBias);
        BiasRef.Backward(grad.Floats, dB.Floats);
        dB.RoundToStorage();
    }

    public void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX)
    {
        const string op = "rope_backward";
        var (grad, pos, dInput) = (Host(op, "dY", dY), Host(op, "positions", positions), Host(op, "dX", dX));
        OpContract.Rope(op, dY, "dY", positions, headDim, dX, "dX");
        OpContract.Positions(op, pos.Ints);
        RopeRef.Backward(grad.Floats, pos.Ints, headDim, theta, dInput.Floats);
        dInput.RoundToStorage();
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV)
    {
        const string op = "attention_backward";
        var (mq, mk, mv, my) = (Host(op, "q", q), Host(op, "k", k), Host(op, "v", v), Host(op, "y", y));
        var (saved, grad) = (Host(op, "lse", lse), Host(op, "dY", dY));
        var (gq, gk, gv) = (Host(op, "dQ", dQ), Host(op, "dK", dK), Host(op, "dV", dV));
        OpContract.AttentionBackward(op, q, k, v, y, lse, dY, batch, config, dQ, dK, dV);
        AttentionRef.Backward(mq.Floats, mk.Floats, mv.Floats, my.Floats, saved.Floats, grad.Floats, batch, config, gq.Floats, gk.Floats, gv.Floats);
        gq.RoundToStorage();
        gk.RoundToStorage();
        gv.RoundToStorage();
    }

    public void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp)
    {
        const string op = "swiglu_backward";
        var (g, u, grad) = (Host(op, "gate", gate), Host(op, "up", up), Host(op, "dY", dY));
        var (dg, du) = (Host(op, "dGate", dGate), Host(op, "dUp", dUp));
        OpContract.SwiGlu(op, gate, ("up", up), ("dY", dY), ("dGate", dGate), ("dUp", dUp));
        SwiGluRef.Backward(g.Floats, u.Floats, grad.Floats, dg.Floats, du.Floats);
        dg.RoundToStorage();
        du.RoundToStorage();
    }

    public double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses)
    {
        const string op = "cross_entropy_forward";
        var (ml, mt, mw, loss) = (Host(op, "logits", logits), Host(op, "targets", targets), Host(op, "weights", weights), Host(op, "losses", losses));
        OpContract.CrossEntropyForward(op, logits, targets, weights, losses);
        OpContract.Targets(op, mt.Ints, logits.Shape[1]);
        return CrossEntropyRef.Forward(ml.Floats, mt.Ints, mw.Floats, logits.Shape[1], loss.Floats);
    }

    public void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits)
    {
        const string op = "cross_entropy_backward";
        var (ml, mt, mw, grad) = (Host(op, "logits", logits), Host(op, "targets", targets), Host(op, "weights", weights), Host(op, "dLogits", dLogits));
        OpContract.CrossEntropyBackward(op, logits, targets, weights, dLogits);
        OpContract.Targets(op, mt.Ints, logits.Shape[1]);
        CrossEntropyRef.Backward(ml.Floats, mt.Ints, mw.Floats, logits.Shape[1], scale, grad.Floats);
        grad.RoundToStorage();
    }

    public double SumOfSquares(Tensor x)
    {
        var mx = Host("sum_of_squares", "x", x);
        OpContract.Float("sum_of_squares", "x", x);
        return ElementwiseRef.SumOfSquares(mx.Floats);
    }

    public double SumOfSquares(IReadOnlyList<Tensor> xs)
    {
        const string op = "sum_of_squares";
        OpContract.SumOfSquares(op, xs);
        double sum = 0;
        for (int i = 0; i < xs.Count; i++) sum += ElementwiseRef.SumOfSquares(Host(op, $"x[{i}]", xs[i]).Floats);
        return sum;
    }

    public void AdamWStep(IReadOnlyList<AdamWTensors> tensors, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        OpContract.AdamWStep(op, tensors, args);
        foreach (var t in tensors)
        {
            var (p, g, mm, vv) = (Host(op, "param", t.Param), Host(op, "grad", t.Grad), Host(op, "m", t.M), Host(op, "v", t.V));
            AdamWRef.Step(p.Floats, g.Floats, mm.Floats, vv.Floats, args with { WeightDecay = t.WeightDecay });
        }
    }

    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        var (p, g, mm, vv) = (Host(op, "param", param), Host(op, "grad", grad), Host(op, "m", m), Host(op, "v", v));
        OpContract.AdamWStep(op, param, grad, m, v, args);
        AdamWRef.Step(p.Floats, g.Floats, mm.Floats, vv.Floats, args);
    }
}
