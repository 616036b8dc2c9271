using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Bench;

/// <summary>A model of any family over <see cref="SyntheticWeights"/> of a named shape (`bench --shape 7b`): owns both.</summary>
public sealed class SyntheticModel : IDisposable
{
    public SyntheticModel(IOps ops, string shape) : this(ops, shape, ShapePresets.Get(shape))
    {
    }

    /// <summary>A model of <paramref name="config"/> (e.g. a `train` preset's), named <paramref name="shape"/>.</summary>
    public SyntheticModel(IOps ops, string shape, IModelConfig config)
    {
        Config = config;
        Name = $"{shape} (random)";
        Weights = SyntheticWeights.Create(ops, Config, ops.ActivationDType);
        Model = ModelFamilies.Create(ops, Weights);
    }

    public string Name { get; }
    public IModelConfig Config { get; }
    public ModelWeights Weights { get; }
    public ICausalLm Model { get; }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
