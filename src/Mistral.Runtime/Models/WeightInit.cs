using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Numerics;

namespace Mistral.Runtime.Models;

/// <summary>
/// The draws a family's initial weights are made of, fp32 on the host, deterministic from a seed: tensor number
/// <c>index</c> of the schema draws from its own stream (<see cref="Xoshiro256StarStar.ForStream"/>), so a tensor's
/// values do not depend on the shapes of the tensors before it.
/// </summary>
public static class WeightInit
{
    /// <summary>Every element from N(0, std²) (Box–Muller over pairs of uniforms).</summary>
    public static HostTensor Normal(string name, Shape shape, double std, ulong seed, int index)
    {
        var rng = Xoshiro256StarStar.ForStream(seed, (ulong)index);
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i += 2)
        {
            double radius = std * Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));   // 1 − u ∈ (0, 1]: no log 0
            double angle = 2.0 * Math.PI * rng.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
        return HostTensor.FromFloat32(name, values, shape);
    }

    /// <summary>Every element <paramref name="value"/> (norm weights 1, biases 0).</summary>
    public static HostTensor Constant(string name, Shape shape, float value)
    {
        var values = new float[shape.ElementCount];
        Array.Fill(values, value);
        return HostTensor.FromFloat32(name, values, shape);
    }

    /// <summary>GPT-2's std for the projections that write into the residual stream: 0.02 / sqrt(2 · layers).</summary>
    public static double ResidualProjectionStd(double std, int layers) => std / Math.Sqrt(2.0 * layers);
}
