using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Model;

/// <summary>
/// A model's weights uploaded to one <see cref="IOps"/>, by native name, for any family: every tensor of the family's
/// <see cref="CheckpointSchema"/> under its config. Owns every tensor and disposes them. A tied tensor (e.g. an output
/// head tied to the embeddings) is the same tensor as the one it is tied to.
/// </summary>
public sealed class ModelWeights : IDisposable
{
    private readonly Dictionary<string, Tensor> _byName;
    private readonly List<Tensor> _owned;
    private bool _disposed;

    private ModelWeights(IModelConfig config, Dictionary<string, Tensor> byName, List<Tensor> owned)
    {
        Config = config;
        _byName = byName;
        _owned = owned;
    }

    public IModelConfig Config { get; }

    /// <summary>The tensor of native name <paramref name="name"/>.</summary>
    public Tensor this[string name] => _byName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"the {Config.Family} weights have no tensor '{name}'");

    /// <summary>Every tensor by native name, tied names included.</summary>
    public IReadOnlyDictionary<string, Tensor> ByName => _byName;

    /// <summary>Every distinct tensor once, in checkpoint order (a tied tensor is not repeated).</summary>
    public IEnumerable<Tensor> All => _owned;

    /// <summary>Reads every weight of <paramref name="dir"/> and uploads it as <paramref name="weightDType"/> (converted from the stored dtype).</summary>
    public static ModelWeights Load(ModelDirectory dir, IOps ops, DType weightDType) =>
        Create(dir.Config, (name, _) =>
        {
            var host = dir.Read(name);
            return ops.Upload(host.Bytes, host.DType, host.Shape, weightDType);
        });

    /// <summary>
    /// Weights uploaded from host tensors by native name (e.g. <see cref="ModelFamily.Initialize"/>'s), converted to
    /// <paramref name="dtype"/>; every stored tensor of the config's schema must be there with its shape. Tensors given in
    /// schema order are uploaded as they come (one held on the host at a time).
    /// </summary>
    public static ModelWeights FromHost(IOps ops, IModelConfig config, IEnumerable<HostTensor> tensors, DType dtype)
    {
        using var source = tensors.GetEnumerator();
        var pending = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        return Create(config, (name, shape) =>
        {
            while (!pending.ContainsKey(name) && source.MoveNext()) pending[source.Current.Name] = source.Current;
            if (!pending.Remove(name, out var host))
                throw new ArgumentException($"the {config.Family} weights need tensor '{name}', which was not given", nameof(tensors));
            if (!host.Shape.Equals(shape))
                throw new ArgumentException($"tensor '{name}' has shape {host.Shape}, the {config.Family} config needs {shape}", nameof(tensors));
            return ops.Upload(host.Bytes, host.DType, host.Shape, dtype);
        });
    }

    /// <summary>
    /// Weights made tensor by tensor by <paramref name="make"/>(native name, shape), in checkpoint order — from a
    /// checkpoint (<see cref="Load"/>) or synthesized on the device (benchmarks). If one fails, those already made are disposed.
    /// </summary>
    public static ModelWeights Create(IModelConfig config, Func<string, Shape, Tensor> make)
    {
        var schema = ModelFamilies.Of(config).Schema(config);
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var made = new List<Tensor>();
        try
        {
            foreach (var (name, shape) in schema.Stored)
            {
                var tensor = make(name, shape);
                made.Add(tensor);
                byName[name] = tensor;
            }
            foreach (var (name, sameAs) in schema.Tied) byName[name] = byName[sameAs];
            return new ModelWeights(config, byName, made);
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _owned) t.Dispose();
    }
}
