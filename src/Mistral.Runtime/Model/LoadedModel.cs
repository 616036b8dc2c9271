using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;
using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Model;

/// <summary>
/// A model directory made ready to run, for any family: config, weights resident on one <see cref="IOps"/>, the
/// family's model over them and the tokenizer when the directory has one. Owns the weights and the model's buffers,
/// not the ops.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(string path, ModelLayout layout, ModelWeights weights, ICausalLm model, ITokenizer? tokenizer)
    {
        DirectoryPath = path;
        Layout = layout;
        Weights = weights;
        Model = model;
        Tokenizer = tokenizer;
    }

    public string DirectoryPath { get; }
    public ModelLayout Layout { get; }
    public IModelConfig Config => Model.Config;
    public ModelWeights Weights { get; }
    public ICausalLm Model { get; }

    /// <summary>The directory's tokenizer.model / tokenizer.json, or null when it has neither.</summary>
    public ITokenizer? Tokenizer { get; }

    /// <summary>The tokenizer, or a clear error naming the directory when it has none.</summary>
    public ITokenizer RequireTokenizer() => Tokenizer ?? throw new TokenizerFormatException(DirectoryPath,
        $"no {TokenizerFiles.SentencePieceFileName} or {TokenizerFiles.HuggingFaceFileName} in this model directory");

    /// <param name="weightDType">how the weights are kept on the device (default: the ops' activation dtype).</param>
    public static LoadedModel Load(string modelDir, IOps ops, DType? weightDType = null)
    {
        using var directory = ModelDirectory.Open(modelDir);
        var tokenizer = directory.TokenizerPath is string path ? TokenizerFiles.Load(path) : null;
        var weights = ModelWeights.Load(directory, ops, weightDType ?? ops.ActivationDType);
        try
        {
            return new LoadedModel(directory.DirectoryPath, directory.Layout, weights, directory.Family.Create(ops, weights), tokenizer);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
