using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Parity;

/// <summary>What every case of one parity run shares: the fixture directory, the device and the model, loaded on first use.</summary>
public sealed class ParityContext(string fixtureDir, IOps ops, string modelDir) : IDisposable
{
    private LoadedModel? _model;

    public string FixtureDir { get; } = fixtureDir;
    public IOps Ops { get; } = ops;
    public string ModelDir { get; } = modelDir;

    public ICausalLm Model => (_model ??= LoadedModel.Load(ModelDir, Ops)).Model;

    public void Dispose() => _model?.Dispose();
}
