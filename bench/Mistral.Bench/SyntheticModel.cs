using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

namespace Mistral.Bench;

/// <summary>A transformer over <see cref="SyntheticWeights"/> of a named shape (`bench --shape 7b`): owns both.</summary>
public sealed class SyntheticModel : IDisposable
{
    public SyntheticModel(IOps ops, string shape)
    {
        Config = ShapePresets.Get(shape);
        Name = $"{shape} (random)";
        Weights = SyntheticWeights.Create(ops, Config, ops.ActivationDType);
        Transformer = new Transformer(ops, Config, Weights);
    }

    public string Name { get; }
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    public Transformer Transformer { get; }

    public void Dispose()
    {
        Transformer.Dispose();
        Weights.Dispose();
    }
}
