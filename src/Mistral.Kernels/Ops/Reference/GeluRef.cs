namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// GELU, element-wise, in the two forms checkpoints ask for (<see cref="GeluApproximation"/>):
/// Tanh (HF <c>NewGELUActivation</c>: <c>0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))</c>)
/// and Erf (HF <c>GELUActivation</c>, torch's <c>F.gelu</c>: <c>x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))</c>).
/// Legend: N = element count.
/// </summary>
public static class GeluRef
{
    /// <summary>√(2/π) and GPT-2's cubic coefficient, rounded to fp32 as torch does with a Python float times an fp32 tensor.</summary>
    public const float TanhScale = 0.7978845608028654f, TanhCubic = 0.044715f;

    /// <summary>1/√2.</summary>
    public const float InvSqrt2 = 0.7071067811865476f;

    public static void Forward(
        ReadOnlySpan<float> x,    // [N]
        GeluApproximation approximation,
        Span<float> y)            // [N] (may alias x)
    {
        for (int i = 0; i < y.Length; i++) y[i] = Value(x[i], approximation);
    }

    /// <summary>dX = dY · gelu'(x). Erf: gelu' = Φ(x) + x·φ(x). Tanh: with t = tanh(u), u = √(2/π)(x + 0.044715x³),
    /// gelu' = 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²).</summary>
    public static void Backward(
        ReadOnlySpan<float> x,    // [N]
        ReadOnlySpan<float> dY,   // [N]
        GeluApproximation approximation,
        Span<float> dX)           // [N] overwritten (may alias dY)
    {
        for (int i = 0; i < dX.Length; i++) dX[i] = dY[i] * Derivative(x[i], approximation);
    }

    public static float Value(float x, GeluApproximation approximation) => approximation switch
    {
        GeluApproximation.Tanh => 0.5f * x * (1f + MathF.Tanh(TanhScale * (x + TanhCubic * x * x * x))),
        _ => 0.5f * x * (1f + Erf32(x * InvSqrt2)),
    };

    public static float Derivative(float x, GeluApproximation approximation)
    {
        if (approximation == GeluApproximation.Tanh)
        {
            float t = MathF.Tanh(TanhScale * (x + TanhCubic * x * x * x));
            return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * TanhScale * (1f + 3f * TanhCubic * x * x);
        }
        // φ(x) = exp(−x²/2)/√(2π); 0.3989422804 = 1/√(2π)
        return 0.5f * (1f + Erf32(x * InvSqrt2)) + x * 0.3989422804014327f * MathF.Exp(-0.5f * x * x);
    }

    /// <summary>erf of an fp32 argument, computed in fp64 and rounded once (.NET has no erf; CUDA's erff is within 2 ulp).</summary>
    private static float Erf32(float z) => (float)Erf(z);

    /// <summary>
    /// erf to ~1e-13 absolute: its Maclaurin series below 3 (terms peak near 3^19/9! ≈ 3e3, so fp64 keeps ~13
    /// digits), 1 − erfc above, erfc from its continued fraction (Abramowitz &amp; Stegun 7.1.14) evaluated bottom-up.
    /// </summary>
    public static double Erf(double z)
    {
        if (z < 0) return -Erf(-z);
        if (z >= 3) return 1 - Erfc(z);
        double sum = 0, power = z;   // power = (−1)^n z^(2n+1) / n!
        for (int n = 0; ; n++)
        {
            double term = power / (2 * n + 1);
            sum += term;
            if (Math.Abs(term) <= 1e-17 * Math.Abs(sum)) break;
            power *= -z * z / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>erfc(z) = exp(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))) for z ≥ 3 (60 levels: relative error ~1e-14).</summary>
    private static double Erfc(double z)
    {
        double f = z;
        for (int k = 60; k >= 1; k--) f = z + k / 2.0 / f;
        return Math.Exp(-z * z) / (Math.Sqrt(Math.PI) * f);
    }
}
