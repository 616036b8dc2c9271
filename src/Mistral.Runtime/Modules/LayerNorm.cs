using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// y = (x − mean) / sqrt(var + eps) · weight + bias per row (biased variance, PyTorch's LayerNorm); x, y [T, D],
/// weight, bias [D]. While training, weight and bias are the trainable fp32 copies named <see cref="WeightName"/> and
/// <see cref="BiasName"/> when the pass trains them, and the backward adds dX (and dWeight, dBias).
/// </summary>
public sealed class LayerNorm(string weightName, Tensor weight, string biasName, Tensor bias, float eps)
{
    /// <summary>The checkpoint names of the parameters, e.g. "h.0.ln_1.weight" and "h.0.ln_1.bias".</summary>
    public string WeightName { get; } = weightName;
    public Tensor Weight { get; } = weight;
    public string BiasName { get; } = biasName;
    public Tensor Bias { get; } = bias;
    public float Eps { get; } = eps;

    public void Forward(ForwardPass pass, Tensor x, Tensor y)
    {
        var ops = pass.Ops;
        if (pass.Train is not { } train)
        {
            var overrides = pass.Overrides;
            ops.LayerNormForward(x, overrides?.Trainable(WeightName)?.Value ?? Weight, overrides?.Trainable(BiasName)?.Value ?? Bias, Eps, y, null, null);
            return;
        }
        var tape = train.Tape;
        var trainedWeight = train.Trainable(WeightName);
        var trainedBias = train.Trainable(BiasName);
        var weight = trainedWeight?.Value ?? Weight;
        var bias = trainedBias?.Value ?? Bias;
        var mean = tape.New(DType.F32, x.Shape.Rows); // [T]
        var rstd = tape.New(DType.F32, x.Shape.Rows); // [T]
        ops.LayerNormForward(x, weight, bias, Eps, y, mean, rstd);
        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            tape.AccumulateGrad(x, dX => ops.LayerNormBackward(x, weight, mean, rstd, dY, dX, trainedWeight?.Grad, trainedBias?.Grad));
        });
    }
}
