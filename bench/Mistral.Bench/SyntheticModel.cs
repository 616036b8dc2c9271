using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Bench;

/// <summary>A model of any family over <see cref="SyntheticWeights"/> of a named shape (`bench --shape 7b`): owns both.</summary>
public sealed class SyntheticModel : IDisposable
{
    public SyntheticModel(IOps ops, string shape)
    {
        Config = ShapePresets.Get(shape);
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
