using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;
using Mistral.Runtime.Devices;
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

    /// <summary>
    /// The tokenizer's vocabulary when the embedding has more rows (checkpoints pad it to a multiple of 64 or 128;
    /// those rows are never trained and have no text), else null: what <see cref="Generation.GenerationOptions.SampleableVocab"/> takes.
    /// </summary>
    public int? SampleableVocab => Tokenizer is { VocabSize: var v } && v < Config.VocabSize ? v : null;

    /// <param name="weightDType">how the weights are kept on the device (default: the ops' activation dtype).</param>
    public static LoadedModel Load(string modelDir, IOps ops, DType? weightDType = null, ModelLoadOptions? options = null)
    {
        using var directory = ModelDirectory.Open(modelDir, options);
        var tokenizer = directory.TokenizerPath is string path ? TokenizerFiles.Load(path) : null;
        if (tokenizer is not null)
            CheckVocabulary(directory, tokenizer);
        var dtype = weightDType ?? ops.ActivationDType;
        MemoryBudget.Require(ops, $"the weights of {directory.DirectoryPath} ({directory.Config.ParameterCount:N0} parameters as {dtype})",
            (double)directory.Config.ParameterCount * dtype.SizeOf());
        var weights = ModelWeights.Load(directory, ops, dtype);
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

    /// <summary>
    /// A tokenizer may have fewer ids than the embedding has rows (padding; <see cref="SampleableVocab"/>), never more:
    /// an id past the last row has no embedding, and would fail mid-generation for some prompts only.
    /// </summary>
    public static void CheckVocabulary(ModelDirectory directory, ITokenizer tokenizer)
    {
        if (tokenizer.VocabSize > directory.Config.VocabSize)
            throw new CheckpointFormatException(directory.TokenizerPath ?? directory.DirectoryPath,
                $"the tokenizer has {tokenizer.VocabSize} ids but the model's embedding ({Path.GetFileName(directory.ConfigPath)} vocab_size, " +
                $"{string.Join(", ", directory.WeightFiles.Select(Path.GetFileName))}) has only {directory.Config.VocabSize} rows: they are not one model's files");
    }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
