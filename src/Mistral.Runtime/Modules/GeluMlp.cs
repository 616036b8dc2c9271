using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Modules;

/// <summary>
/// GPT-2's MLP: y = c_proj(gelu(c_fc(x))), x, y [T, D], hidden [T, F]; both projections carry a bias. Observation
/// points (prefixed by the caller's layer name): mlp_fc (before GELU), mlp_hidden (after).
/// </summary>
public sealed class GeluMlp(Linear fc, Linear proj, GeluApproximation approximation)
{
    public Linear Fc { get; } = fc;
    public Linear Proj { get; } = proj;
    public GeluApproximation Approximation { get; } = approximation;

    public void Forward(ForwardPass pass, Tensor x, Tensor y, ActivationObserver? observe = null, string observePrefix = "")
    {
        int T = x.Shape[0], F = Fc.Out;
        var fc = pass.Buffer("fc", T, F);         // [T, F]; each buffer right before its op (Attention.Forward says why)
        Fc.Forward(pass, x, fc);
        observe?.Invoke(observePrefix + "mlp_fc", fc);
        var hidden = pass.Buffer("hidden", T, F); // [T, F]
        Gelu(pass, fc, hidden);
        observe?.Invoke(observePrefix + "mlp_hidden", hidden);
        Proj.Forward(pass, hidden, y);
    }

    private void Gelu(ForwardPass pass, Tensor x, Tensor y)
    {
        var ops = pass.Ops;
        ops.GeluForward(x, Approximation, y);
        if (pass.Train is not { } train) return;
        var tape = train.Tape;
        tape.Record(() =>
        {
            if (tape.GradOf(y) is { } dY) tape.AccumulateGrad(x, dX => ops.GeluBackward(x, dY, Approximation, dX));
        });
    }
}
