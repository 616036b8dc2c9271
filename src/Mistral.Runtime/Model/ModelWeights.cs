using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>One transformer block's weights. Linear weights are [out, in]; norms [D].</summary>
public sealed record LayerWeights(
    Tensor Wq, Tensor Wk, Tensor Wv, Tensor Wo,
    Tensor W1, Tensor W2, Tensor W3,
    Tensor AttentionNorm, Tensor FfnNorm)
{
    public IEnumerable<Tensor> All => [Wq, Wk, Wv, Wo, W1, W2, W3, AttentionNorm, FfnNorm];
}

/// <summary>
/// The model's weights uploaded to one <see cref="IOps"/> in one dtype. Owns every tensor and disposes them. With tied
/// embeddings Output is the same tensor as TokEmbeddings.
/// TokEmbeddings [V, D], Norm [D], Output [V, D], Layers[i] as <see cref="LayerWeights"/>.
/// </summary>
public sealed class ModelWeights : IDisposable
{
    private ModelWeights(ModelConfig config, Tensor tokEmbeddings, Tensor norm, Tensor output, IReadOnlyList<LayerWeights> layers)
    {
        Config = config;
        TokEmbeddings = tokEmbeddings;
        Norm = norm;
        Output = output;
        Layers = layers;
    }

    public ModelConfig Config { get; }
    public Tensor TokEmbeddings { get; }
    public Tensor Norm { get; }
    public Tensor Output { get; }
    public IReadOnlyList<LayerWeights> Layers { get; }

    /// <summary>Every distinct tensor once (tied Output is not repeated).</summary>
    public IEnumerable<Tensor> All =>
        new[] { TokEmbeddings }.Concat(Layers.SelectMany(l => l.All)).Append(Norm).Append(Output).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>();

    /// <summary>Reads every weight of <paramref name="dir"/> and uploads it as <paramref name="weightDType"/> (converted from the stored dtype).</summary>
    public static ModelWeights Load(ModelDirectory dir, IOps ops, DType weightDType) =>
        Create(dir.Config, (name, _) =>
        {
            var host = dir.Read(name);
            return ops.Upload(host.Bytes, host.DType, host.Shape, weightDType);
        });

    /// <summary>
    /// Weights made tensor by tensor by <paramref name="make"/>(native name, shape) — from a checkpoint (<see cref="Load"/>)
    /// or synthesized on the device (benchmarks). If one fails, those already made are disposed.
    /// </summary>
    public static ModelWeights Create(ModelConfig config, Func<string, Shape, Tensor> make)
    {
        var shapes = NativeTensorNames.Expected(config).ToDictionary(e => e.Name, e => e.Shape);
        var made = new List<Tensor>();
        try
        {
            Tensor Up(string name)
            {
                var tensor = make(name, shapes[name]);
                made.Add(tensor);
                return tensor;
            }

            var embeddings = Up(NativeTensorNames.TokEmbeddings);
            var layers = new LayerWeights[config.NLayers];
            for (int i = 0; i < config.NLayers; i++)
                layers[i] = new LayerWeights(
                    Up(NativeTensorNames.Wq(i)), Up(NativeTensorNames.Wk(i)), Up(NativeTensorNames.Wv(i)), Up(NativeTensorNames.Wo(i)),
                    Up(NativeTensorNames.W1(i)), Up(NativeTensorNames.W2(i)), Up(NativeTensorNames.W3(i)),
                    Up(NativeTensorNames.AttentionNorm(i)), Up(NativeTensorNames.FfnNorm(i)));
            var norm = Up(NativeTensorNames.Norm);
            var output = config.TieWordEmbeddings ? embeddings : Up(NativeTensorNames.Output);
            return new ModelWeights(config, embeddings, norm, output, layers);
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in All) t.Dispose();
    }
}
