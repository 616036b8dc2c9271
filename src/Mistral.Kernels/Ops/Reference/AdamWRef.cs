using System.Globalization;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// One AdamW step, torch 1.13 single-tensor semantics (torch/optim/adamw.py _single_tensor_adamw), in fp32 with
/// the scalar factors computed in fp64 as Python does and then used as fp32:
/// <code>
/// g  = grad · GradScale                       (global-norm clipping folds in here)
/// p ← p · (1 − lr·wd)                         param.mul_(1 - lr * weight_decay)
/// m ← β1·m + (1−β1)·g                         exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
/// v ← β2·v + (1−β2)·g²                        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
/// p ← p − (lr/(1−β1^t)) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
/// </code>
/// </summary>
public static class AdamWRef
{
    public static void Step(
        Span<float> param,          // [N] updated in place
        ReadOnlySpan<float> grad,   // [N]
        Span<float> m,              // [N] first moment, updated
        Span<float> v,              // [N] second moment, updated
        AdamWStepArgs args)
    {
        var f = Factors(args);
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i] * args.GradScale;
            param[i] *= f.Decay;
            m[i] = m[i] * f.Beta1 + f.OneMinusBeta1 * g;
            v[i] = v[i] * f.Beta2 + f.OneMinusBeta2 * g * g;
            float denom = MathF.Sqrt(v[i]) / f.BiasCorrection2Sqrt + args.Eps;
            param[i] -= f.StepSize * m[i] / denom;
        }
    }

    /// <summary>The fp32 factors of one step, formed in fp64 as torch does (the device kernel takes these very values).</summary>
    public readonly record struct StepFactors(float Decay, float Beta1, float Beta2, float OneMinusBeta1, float OneMinusBeta2, float StepSize, float BiasCorrection2Sqrt);

    public static StepFactors Factors(AdamWStepArgs args)
    {
        if (args.Step < 1) throw new ArgumentOutOfRangeException(nameof(args), args.Step, "adamw: Step counts from 1");
        double lr = AsPythonDouble(args.LearningRate), wd = AsPythonDouble(args.WeightDecay);
        double beta1 = AsPythonDouble(args.Beta1), beta2 = AsPythonDouble(args.Beta2);
        double biasCorrection1 = 1.0 - Math.Pow(beta1, args.Step);
        double biasCorrection2 = 1.0 - Math.Pow(beta2, args.Step);
        return new StepFactors(
            Decay: (float)(1.0 - lr * wd),
            Beta1: (float)beta1,
            Beta2: (float)beta2,
            OneMinusBeta1: (float)(1.0 - beta1),
            OneMinusBeta2: (float)(1.0 - beta2),
            StepSize: (float)(lr / biasCorrection1),
            BiasCorrection2Sqrt: (float)Math.Sqrt(biasCorrection2));
    }

    /// <summary>
    /// The hyper-parameters are Python floats (fp64) in torch, and 1 − β is formed in fp64 before it meets fp32 data:
    /// 1 − 0.9 gives fp32 0.1, while 1 − (double)0.9f gives 0.10000002. The shortest decimal that round-trips the
    /// float is the one the user wrote (0.9f prints as 0.9), and parsing it as a double gives Python's value. (Going
    /// through System.Decimal did the same but overflowed above 7.9e28: lr 1e30 ended in an OverflowException.)
    /// </summary>
    private static double AsPythonDouble(float value) =>
        float.IsFinite(value) ? double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : value;
}
