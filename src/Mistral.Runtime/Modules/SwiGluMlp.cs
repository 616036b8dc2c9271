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

    public void Forward(ForwardPass pass, Tensor x, Tensor y)
    {
        int T = x.Shape[0], F = Gate.Out;
        var gate = pass.Buffer("gate", T, F);     // [T, F]; each buffer right before its op (Attention.Forward says why)
        Gate.Forward(pass, x, gate);
        var up = pass.Buffer("up", T, F);         // [T, F]
        Up.Forward(pass, x, up);
        var hidden = pass.Buffer("hidden", T, F); // [T, F]
        SwiGlu(pass, gate, up, hidden);
        Down.Forward(pass, hidden, y);
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
