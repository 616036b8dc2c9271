using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// mistral-src FeedForward: y = w2(silu(w1(x)) ⊙ w3(x)), x, y [T, D], hidden [T, F]. The gate (w1), up (w3) and down
/// (w2) projections are <see cref="Linear"/> modules, so LoRA reaches them by name.
/// </summary>
public sealed class SwiGluMlp(Linear gate, Linear up, Linear down)
{
    public Linear Gate { get; } = gate;
    public Linear Up { get; } = up;
    public Linear Down { get; } = down;

    /// <param name="accumulate">y += the output instead of y = (inference only): the residual add in the down projection.</param>
    public void Forward(ForwardPass pass, Tensor x, Tensor y, bool accumulate = false)
    {
        int T = x.Shape[0], F = Gate.Out;
        var gate = pass.Buffer("gate", T, F);     // [T, F]; each buffer right before its op (Attention.Forward says why)
        if (Gate.IsPlain(pass) && Up.IsPlain(pass) && Gate.Bias is null && Up.Bias is null)
        {
            // Inference: w1, w3 and the SwiGLU as one op (one launch on a device for a decode step).
            var upOut = pass.Buffer("up", T, F);
            var fused = pass.Buffer("hidden", T, F);
            pass.Ops.SwiGluLinear(x, Gate.Weight, Up.Weight, gate, upOut, fused);
            if (accumulate) Down.ForwardAdd(pass, fused, y);
            else Down.Forward(pass, fused, y);
            return;
        }
        Gate.Forward(pass, x, gate);
        var up = pass.Buffer("up", T, F);         // [T, F]
        Up.Forward(pass, x, up);
        var hidden = pass.Buffer("hidden", T, F); // [T, F]
        SwiGlu(pass, gate, up, hidden);
        if (accumulate) Down.ForwardAdd(pass, hidden, y);
        else Down.Forward(pass, hidden, y);
    }

    /// <summary>hidden = silu(gate) ⊙ up, and its backward into dGate and dUp.</summary>
    private static void SwiGlu(ForwardPass pass, Tensor gate, Tensor up, Tensor y)
    {
        var ops = pass.Ops;
        ops.SwiGluForward(gate, up, y);
        if (pass.Train is not { } train) return;
        var tape = train.Tape;
        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            using var dUp = ops.Allocate(up.Shape, ops.ActivationDType);
            tape.AccumulateGrad(gate, dGate => ops.SwiGluBackward(gate, up, dY, dGate, dUp));
            tape.AccumulateGrad(up, g => ops.Copy(dUp, g));
        });
    }
}
