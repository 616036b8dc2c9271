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
    /// <summary>How one tensor starts: drawn from N(0, Std²) when Std &gt; 0, else every element <see cref="Fill"/>.</summary>
    public readonly record struct Rule(double Std, float Fill = 0f)
    {
        public static Rule Normal(double std) => new(std);
        public static Rule Constant(float value) => new(0, value);
    }

    /// <summary>Each tensor of <paramref name="tensors"/> (schema order; number i draws from stream i) as <paramref name="rule"/> says.</summary>
    public static IEnumerable<HostTensor> Draw(IReadOnlyList<(string Name, Shape Shape)> tensors, ulong seed, Func<string, Rule> rule)
    {
        for (int i = 0; i < tensors.Count; i++)
        {
            var (name, shape) = tensors[i];
            var r = rule(name);
            yield return r.Std > 0 ? Normal(name, shape, r.Std, seed, i) : Constant(name, shape, r.Fill);
        }
    }

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

    /// <summary>
    /// GPT-2's scheme over any family's tensors: biases 0, <paramref name="normWeights"/> 1, the projections that write
    /// into the residual stream N(0, (std / sqrt(2·layers))²), every other tensor N(0, std²).
    /// </summary>
    public static IEnumerable<HostTensor> Gpt2Scheme(IReadOnlyList<(string Name, Shape Shape)> tensors, ulong seed, double std, int layers,
        IReadOnlySet<string> residualProjections, IReadOnlySet<string> normWeights)
    {
        var projection = Rule.Normal(ResidualProjectionStd(std, layers));
        return Draw(tensors, seed, name =>
            name.EndsWith(".bias", StringComparison.Ordinal) ? Rule.Constant(0f)   // LayerNorm biases too
            : normWeights.Contains(name) ? Rule.Constant(1f)
            : residualProjections.Contains(name) ? projection
            : Rule.Normal(std));
    }

    /// <summary>GPT-2's std for the projections that write into the residual stream: 0.02 / sqrt(2 · layers).</summary>
    public static double ResidualProjectionStd(double std, int layers) => std / Math.Sqrt(2.0 * layers);
}
