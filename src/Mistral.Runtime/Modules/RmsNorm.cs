using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// y = x / sqrt(mean(x²) + eps) · weight, per row; x, y [T, D], weight [D]. While training, the weight is the trainable
/// fp32 copy named <see cref="WeightName"/> when the pass trains it, and the backward adds dX (and dWeight).
/// </summary>
public sealed class RmsNorm(string weightName, Tensor weight, float eps)
{
    /// <summary>The checkpoint name of the weight, e.g. "layers.0.attention_norm.weight".</summary>
    public string WeightName { get; } = weightName;
    public Tensor Weight { get; } = weight;
    public float Eps { get; } = eps;

    public void Forward(ForwardPass pass, Tensor x, Tensor y)
    {
        var ops = pass.Ops;
        if (pass.Train is not { } train)
        {
            ops.RmsNormForward(x, pass.Overrides?.Trainable(WeightName)?.Value ?? Weight, Eps, y, null);
            return;
        }
        var tape = train.Tape;
        var trainable = train.Trainable(WeightName);
        var weight = trainable?.Value ?? Weight;
        var rstd = tape.New(DType.F32, x.Shape.Rows); // [T]
        ops.RmsNormForward(x, weight, Eps, y, rstd);
        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            tape.AccumulateGrad(x, dX => ops.RmsNormBackward(x, weight, rstd, dY, dX, trainable?.Grad));
        });
    }
}
