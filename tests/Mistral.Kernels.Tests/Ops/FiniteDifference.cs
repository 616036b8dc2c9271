namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// Central differences of a scalar fp64 function: ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h. With the forward in
/// fp64 and h = 1e-5 on inputs of order 1, the truncation error (h²·f'''/6 ≈ 1e-11) and the rounding error
/// (1e-16·|f|/h ≈ 1e-11) are far below the fp32 error of the analytic gradient being checked.
/// </summary>
internal static class FiniteDifference
{
    public const double Step = 1e-5;

    public static double[] Gradient(Func<double[], double> f, double[] x)
    {
        var grad = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + Step;
            double up = f(probe);
            probe[i] = x[i] - Step;
            double down = f(probe);
            probe[i] = x[i];
            grad[i] = (up - down) / (2 * Step);
        }
        return grad;
    }

    /// <summary>Σ dY·y: the scalar whose gradient with respect to the op's inputs is what its backward computes.</summary>
    public static double Dot(double[] dY, double[] y)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += dY[i] * y[i];
        return sum;
    }

    public static double[] ToDouble(float[] x) => x.Select(e => (double)e).ToArray();
    public static float[] ToSingle(double[] x) => x.Select(e => (float)e).ToArray();
}
