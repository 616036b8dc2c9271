using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>The residual connection h + sub-block output.</summary>
public static class Residual
{
    /// <summary>h + proj: in place for inference (returns h); a fresh tensor while training (a norm's backward reads the old h).</summary>
    public static Tensor Add(ForwardPass pass, Tensor h, Tensor proj)
    {
        var ops = pass.Ops;
        if (pass.Train is not { } train)
        {
            ops.Add(h, proj, h);
            return h;
        }
        var tape = train.Tape;
        var y = train.Activation([.. h.Shape.Dims]);
        ops.Add(h, proj, y);
        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            tape.AccumulateGrad(h, g => ops.Copy(dY, g));
            tape.AccumulateGrad(proj, g => ops.Copy(dY, g));
        });
        return y;
    }
}
