using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>The backward twins, the loss and the optimizer: what fine-tuning calls on the cpu device.</summary>
public sealed partial class CpuOps
{
    public void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable)
    {
        const string op = "embedding_backward";
        var (ids, grad, dTab) = (OpChecks.Int(op, "tokens", tokens), OpChecks.Float(op, "dY", dY), OpChecks.Float(op, "dTable", dTable));
        OpChecks.That(dTable.Shape.Rank == 2, op, $"dTable {dTable.Shape} must be [V, D]");
        int vocab = dTable.Shape[0], dim = dTable.Shape[1];
        OpChecks.Count(op, "dY", dY, OpChecks.Elements((int)tokens.ElementCount, dim), $"[{tokens.ElementCount}, {dim}] (tokens × table dim)");
        CheckTokenIds(op, ids.Ints, vocab);
        EmbeddingRef.Backward(ids.Ints, grad.Floats, dim, dTab.Floats);
        dTab.RoundToStorage();
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight)
    {
        const string op = "rmsnorm_backward";
        var (input, w, saved) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "weight", weight), OpChecks.F32(op, "rstd", rstd));
        var (grad, dInput) = (OpChecks.Float(op, "dY", dY), OpChecks.Float(op, "dX", dX));
        var dW = dWeight is null ? null : OpChecks.Float(op, "dWeight", dWeight);
        CheckRmsNormShapes(op, x, weight);
        OpChecks.Count(op, "rstd", rstd, x.Shape.Rows, $"[{x.Shape.Rows}] (one per row of x {x.Shape})");
        OpChecks.SameShape(op, "dY", dY, "x", x);
        OpChecks.SameShape(op, "dX", dX, "x", x);
        if (dWeight is not null) OpChecks.SameShape(op, "dWeight", dWeight, "weight", weight);
        RmsNormRef.Backward(input.Floats, w.Floats, saved.Floats, grad.Floats, dInput.Floats, dW is null ? [] : dW.Floats);
        dInput.RoundToStorage();
        dW?.RoundToStorage();
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias)
    {
        const string op = "layernorm_backward";
        var (input, w, savedMean, savedRstd) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "weight", weight), OpChecks.F32(op, "mean", mean), OpChecks.F32(op, "rstd", rstd));
        var (grad, dInput) = (OpChecks.Float(op, "dY", dY), OpChecks.Float(op, "dX", dX));
        var dW = dWeight is null ? null : OpChecks.Float(op, "dWeight", dWeight);
        var dB = dBias is null ? null : OpChecks.Float(op, "dBias", dBias);
        CheckRowVector(op, x, "weight", weight);
        CheckRowStatistic(op, "mean", mean, x);
        CheckRowStatistic(op, "rstd", rstd, x);
        OpChecks.SameShape(op, "dY", dY, "x", x);
        OpChecks.SameShape(op, "dX", dX, "x", x);
        if (dWeight is not null) OpChecks.SameShape(op, "dWeight", dWeight, "weight", weight);
        if (dBias is not null) OpChecks.SameShape(op, "dBias", dBias, "weight", weight);
        LayerNormRef.Backward(input.Floats, w.Floats, savedMean.Floats, savedRstd.Floats, grad.Floats, dInput.Floats, dW is null ? [] : dW.Floats, dB is null ? [] : dB.Floats);
        dInput.RoundToStorage();
        dW?.RoundToStorage();
        dB?.RoundToStorage();
    }

    public void GeluBackward(Tensor x, Tensor dY, GeluApproximation approximation, Tensor dX)
    {
        const string op = "gelu_backward";
        var (input, grad, dInput) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "dY", dY), OpChecks.Float(op, "dX", dX));
        OpChecks.SameShape(op, "dY", dY, "x", x);
        OpChecks.SameShape(op, "dX", dX, "x", x);
        GeluRef.Backward(input.Floats, grad.Floats, approximation, dInput.Floats);
        dInput.RoundToStorage();
    }

    public void BiasBackward(Tensor dY, Tensor dBias)
    {
        const string op = "bias_backward";
        var (grad, dB) = (OpChecks.Float(op, "dY", dY), OpChecks.Float(op, "dBias", dBias));
        CheckRowVector(op, "dY", dY, "dBias", dBias);
        BiasRef.Backward(grad.Floats, dB.Floats);
        dB.RoundToStorage();
    }

    public void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX)
    {
        const string op = "rope_backward";
        var (grad, pos, dInput) = (OpChecks.Float(op, "dY", dY), OpChecks.Int(op, "positions", positions), OpChecks.Float(op, "dX", dX));
        CheckRopeShapes(op, dY, positions, headDim, dX, pos.Ints);
        RopeRef.Backward(grad.Floats, pos.Ints, headDim, theta, dInput.Floats);
        dInput.RoundToStorage();
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch, AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV)
    {
        const string op = "attention_backward";
        var (mq, mk, mv, my) = (OpChecks.Float(op, "q", q), OpChecks.Float(op, "k", k), OpChecks.Float(op, "v", v), OpChecks.Float(op, "y", y));
        var (saved, grad) = (OpChecks.F32(op, "lse", lse), OpChecks.Float(op, "dY", dY));
        var (gq, gk, gv) = (OpChecks.Float(op, "dQ", dQ), OpChecks.Float(op, "dK", dK), OpChecks.Float(op, "dV", dV));
        CheckAttentionShapes(op, q, k, v, batch, config);
        OpChecks.SameShape(op, "y", y, "q", q);
        OpChecks.SameShape(op, "dY", dY, "q", q);
        OpChecks.SameShape(op, "dQ", dQ, "q", q);
        OpChecks.SameShape(op, "dK", dK, "k", k);
        OpChecks.SameShape(op, "dV", dV, "v", v);
        OpChecks.Count(op, "lse", lse, OpChecks.Elements(config.NHeads, batch.TotalTokens), $"[{config.NHeads}, {batch.TotalTokens}] (heads × tokens)");
        AttentionRef.Backward(mq.Floats, mk.Floats, mv.Floats, my.Floats, saved.Floats, grad.Floats, batch, config, gq.Floats, gk.Floats, gv.Floats);
        gq.RoundToStorage();
        gk.RoundToStorage();
        gv.RoundToStorage();
    }

    public void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp)
    {
        const string op = "swiglu_backward";
        var (g, u, grad) = (OpChecks.Float(op, "gate", gate), OpChecks.Float(op, "up", up), OpChecks.Float(op, "dY", dY));
        var (dg, du) = (OpChecks.Float(op, "dGate", dGate), OpChecks.Float(op, "dUp", dUp));
        foreach (var (name, t) in new[] { ("up", up), ("dY", dY), ("dGate", dGate), ("dUp", dUp) })
            OpChecks.SameShape(op, name, t, "gate", gate);
        SwiGluRef.Backward(g.Floats, u.Floats, grad.Floats, dg.Floats, du.Floats);
        dg.RoundToStorage();
        du.RoundToStorage();
    }

    public double CrossEntropyForward(Tensor logits, Tensor targets, Tensor weights, Tensor losses)
    {
        const string op = "cross_entropy_forward";
        var (ml, mt, mw, loss) = (OpChecks.Float(op, "logits", logits), OpChecks.Int(op, "targets", targets), OpChecks.F32(op, "weights", weights), OpChecks.F32(op, "losses", losses));
        CheckCrossEntropyShapes(op, logits, targets, weights, mt.Ints);
        OpChecks.Count(op, "losses", losses, logits.Shape[0], $"[{logits.Shape[0]}] (one per row of logits {logits.Shape})");
        return CrossEntropyRef.Forward(ml.Floats, mt.Ints, mw.Floats, logits.Shape[1], loss.Floats);
    }

    public void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor weights, float scale, Tensor dLogits)
    {
        const string op = "cross_entropy_backward";
        var (ml, mt, mw, grad) = (OpChecks.Float(op, "logits", logits), OpChecks.Int(op, "targets", targets), OpChecks.F32(op, "weights", weights), OpChecks.Float(op, "dLogits", dLogits));
        CheckCrossEntropyShapes(op, logits, targets, weights, mt.Ints);
        OpChecks.SameShape(op, "dLogits", dLogits, "logits", logits);
        CrossEntropyRef.Backward(ml.Floats, mt.Ints, mw.Floats, logits.Shape[1], scale, grad.Floats);
        grad.RoundToStorage();
    }

    public double SumOfSquares(Tensor x) => ElementwiseRef.SumOfSquares(OpChecks.Float("sum_of_squares", "x", x).Floats);

    public void AdamWStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args)
    {
        const string op = "adamw_step";
        var (p, g, mm, vv) = (OpChecks.F32(op, "param", param), OpChecks.F32(op, "grad", grad), OpChecks.F32(op, "m", m), OpChecks.F32(op, "v", v));
        foreach (var (name, t) in new[] { ("grad", grad), ("m", m), ("v", v) })
            OpChecks.SameShape(op, name, t, "param", param);
        OpChecks.That(args.Step >= 1, op, $"step {args.Step} must count from 1");
        AdamWRef.Step(p.Floats, g.Floats, mm.Floats, vv.Floats, args);
    }
}
