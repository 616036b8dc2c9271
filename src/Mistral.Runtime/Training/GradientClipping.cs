using Mistral.Kernels.Ops;

namespace Mistral.Runtime.Training;

/// <summary>torch.nn.utils.clip_grad_norm_: one global L2 norm over every gradient, scale = min(1, max / (norm + 1e-6)).</summary>
public static class GradientClipping
{
    /// <summary>sqrt(Σ g²) over every gradient, squares in fp64: one reduction and one download on a device.</summary>
    public static double GlobalNorm(IOps ops, IEnumerable<TrainableParameter> parameters) =>
        Math.Sqrt(ops.SumOfSquares(parameters.Select(p => p.Grad).ToArray()));

    /// <summary>
    /// √Σ of per-tensor sums of squares, added in the order given: ZeRO-1 gathers the same per-tensor sums from their
    /// owners and, adding them in the same order, gets the same bits as one rank holding every gradient.
    /// </summary>
    public static double Norm(IEnumerable<double> sumsOfSquares)
    {
        double total = 0;
        foreach (double s in sumsOfSquares) total += s;
        return Math.Sqrt(total);
    }

    /// <summary>The factor to multiply gradients by; 1 when clipping is off (maxNorm null or ≤ 0) or not needed.</summary>
    public static float Scale(double norm, double? maxNorm) =>
        maxNorm is > 0 && norm > maxNorm ? (float)(maxNorm.Value / (norm + 1e-6)) : 1f;
}
