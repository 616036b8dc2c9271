using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model.Pth;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Model;

/// <summary>How a model directory stores its weights (what a merged model is written back as).</summary>
public enum ModelLayout
{
    /// <summary>params.json + consolidated.safetensors</summary>
    NativeSafeTensors,
    /// <summary>params.json + consolidated.00.pth (torch.save zip)</summary>
    NativePth,
    /// <summary>config.json + model.safetensors or model-0000x-of-0000y.safetensors with model.safetensors.index.json</summary>
    HuggingFace,
}

/// <summary>
/// An opened model directory of any family: its layout, family, config, weights under the family's native names
/// (validated against the config on open) and tokenizer file. Which family reads it is decided by what it holds:
/// params.json → the native layout's family (Mistral); config.json → the family registered for its <c>model_type</c>
/// (<see cref="ModelFamilies"/>). Owns the checkpoint's open files; tensors read from it are valid until disposed.
/// </summary>
public sealed class ModelDirectory : IDisposable
{
    public const string ParamsJson = "params.json";
    public const string ConfigJson = "config.json";
    public const string ConsolidatedSafeTensors = "consolidated.safetensors";
    public const string ConsolidatedPth = "consolidated.00.pth";

    private ModelLoadOptions _options = ModelLoadOptions.Strict;

    private ModelDirectory(string path, ModelLayout layout, string configPath, ModelFamily family, IModelConfig config, Checkpoint checkpoint,
        IReadOnlyList<string> weightFiles)
    {
        DirectoryPath = path;
        Layout = layout;
        ConfigPath = configPath;
        Family = family;
        Config = config;
        Schema = family.Schema(config);
        Checkpoint = checkpoint;
        WeightFiles = weightFiles;
        IsSharded = checkpoint.IsSharded;
        StoredDType = checkpoint.Tensors[Schema.First].DType;
        WeightBytes = weightFiles.Sum(RegularFile.Length);
        TokenizerPath = Tokenizer.TokenizerFiles.FindInDirectory(path);
    }

    public string DirectoryPath { get; }
    public ModelLayout Layout { get; }
    public bool IsSharded { get; }

    /// <summary>params.json or config.json.</summary>
    public string ConfigPath { get; }
    public ModelFamily Family { get; }
    public IModelConfig Config { get; }

    /// <summary>Every tensor the config implies, their ties and the Hugging Face name map.</summary>
    public CheckpointSchema Schema { get; }

    /// <summary>The weights under native names, shapes already checked against <see cref="Config"/>.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>The dtype the weights are stored in on disk (that of the first tensor, the embeddings).</summary>
    public DType StoredDType { get; }

    /// <summary>Weight files (one, or every shard) and their total size in bytes.</summary>
    public IReadOnlyList<string> WeightFiles { get; }
    public long WeightBytes { get; }

    /// <summary>The tokenizer file (<see cref="Tokenizer.TokenizerFiles.FindInDirectory"/>), or null.</summary>
    public string? TokenizerPath { get; }

    /// <summary>
    /// A weight in native layout by the family's native name. A NaN or infinity in it is refused
    /// with the file, tensor and first bad element (such a model writes garbage with exit 0) unless the options allow it.
    /// </summary>
    public HostTensor Read(string nativeName)
    {
        var tensor = Checkpoint.Read(nativeName);
        if (!_options.AllowNonFinite && tensor.FirstNonFinite() is var bad and >= 0)
        {
            var info = Checkpoint.Tensors[nativeName];
            throw new CheckpointFormatException(info.FilePath,
                $"tensor {Describe(info)} holds {tensor.ElementAsSingle(bad)} at element {tensor.IndexOf(bad)} (flat index {bad}); " +
                "a model with non-finite weights writes garbage (--allow-nonfinite loads it anyway)");
        }
        return tensor;
    }

    public static ModelDirectory Open(string path, ModelLoadOptions? options = null)
    {
        var directory = OpenLayout(path);
        directory._options = options ?? ModelLoadOptions.Strict;
        return directory;
    }

    private static ModelDirectory OpenLayout(string path)
    {
        if (File.Exists(path))
            throw new CheckpointFormatException(path, "is a file; expected a model directory (params.json or config.json plus weights)");
        if (!Directory.Exists(path))
            throw new CheckpointFormatException(path, "model directory not found");

        string paramsPath = Path.Combine(path, ParamsJson), configPath = Path.Combine(path, ConfigJson);
        string safetensors = Path.Combine(path, ConsolidatedSafeTensors), pth = Path.Combine(path, ConsolidatedPth);
        bool hasNativeWeights = File.Exists(safetensors) || File.Exists(pth);

        if (File.Exists(paramsPath) && (hasNativeWeights || !File.Exists(configPath)))
        {
            var family = ModelFamilies.ParamsJson;
            var config = family.ReadParamsJson(paramsPath);
            if (File.Exists(safetensors))
                return new ModelDirectory(path, ModelLayout.NativeSafeTensors, paramsPath, family, config,
                    Checked(family, config, paramsPath, new NativeSafeTensorsCheckpoint(safetensors)), [safetensors]);
            if (File.Exists(Path.Combine(path, "consolidated.01.pth")))
                throw new CheckpointFormatException(path, "holds consolidated.01.pth: tensor-parallel sharded .pth checkpoints are not supported (expected a single consolidated.00.pth)");
            if (File.Exists(pth))
                return new ModelDirectory(path, ModelLayout.NativePth, paramsPath, family, config, Checked(family, config, paramsPath, PthCheckpoint.Open(pth)), [pth]);
            throw new CheckpointFormatException(path, $"has {ParamsJson} but no weights: expected {ConsolidatedSafeTensors} or {ConsolidatedPth}");
        }
        if (File.Exists(configPath))
        {
            var family = HfFamily(configPath);
            var config = family.ReadHfConfig(configPath);
            if (!family.HasHfWeights(path))
                throw new CheckpointFormatException(path, $"has {ConfigJson} but no weights: expected {family.HfWeightFiles}");
            // The family's schema lists every tensor of every layer the config implies, so a hostile config (n_layers
            // 10^9) must not get that far: each layer's tensors take at least a byte of the folder. The exact count of
            // stored values follows in Checked, once the files are open (and have given their own errors).
            long folderBytes = Directory.EnumerateFiles(path).Sum(RegularFile.Length);
            if (config.LayerCount > folderBytes)
                throw new CheckpointFormatException(configPath,
                    $"declares {config.LayerCount:N0} layers but the files of this folder hold only {folderBytes:N0} bytes: the config does not describe these weights");
            var checkpoint = Checked(family, config, configPath, family.OpenHf(path, config));
            return new ModelDirectory(path, ModelLayout.HuggingFace, configPath, family, config, checkpoint, checkpoint.Files);
        }
        throw new CheckpointFormatException(path, $"not a model directory: expected {ParamsJson} (native layout) or {ConfigJson} (Hugging Face layout)");
    }

    public void Dispose() => Checkpoint.Dispose();

    /// <summary>
    /// A model config read from one file without weights (train's model.config_path): a native params.json, or an HF
    /// config.json of any registered family (by its model_type).
    /// </summary>
    public static IModelConfig ReadConfigFile(string path) =>
        Path.GetFileName(path) == ParamsJson ? ModelFamilies.ParamsJson.ReadParamsJson(path) : HfFamily(path).ReadHfConfig(path);

    /// <summary>The family registered for config.json's model_type; any other type is refused, naming the supported ones.</summary>
    private static ModelFamily HfFamily(string configPath)
    {
        var json = JsonFields.Load(configPath);
        string? modelType = json.StringOrNull("model_type");
        return ModelFamilies.ForHfModelType(modelType) ?? throw new CheckpointFormatException(configPath,
            $"field 'model_type' is '{modelType}', which this engine does not run (supported: {string.Join(", ", ModelFamilies.HfModelTypes)})");
    }

    /// <summary>Every tensor the config implies must exist with exactly its shape and a float dtype.</summary>
    private static Checkpoint Checked(ModelFamily family, IModelConfig config, string configPath, Checkpoint checkpoint)
    {
        try
        {
            string configName = Path.GetFileName(configPath);
            // Before the per-tensor table is built: a config declaring far more parameters than the files hold (a
            // hostile n_layers of 10^9) is refused at once instead of building a table of billions of names.
            long stored = checkpoint.Tensors.Values.DistinctBy(t => (t.FilePath, t.StoredName ?? t.Name)).Sum(t => t.Shape.ElementCount);
            if (config.ParameterCount > 2 * stored) // tied tensors are stored once
                throw new CheckpointFormatException(configPath,
                    $"declares {config.ParameterCount:N0} parameters but the weight files hold only {stored:N0} values: the config does not describe these weights");
            foreach (var (name, shape) in family.Schema(config).Expected)
            {
                if (!checkpoint.Tensors.TryGetValue(name, out var info))
                {
                    checkpoint.Read(name); // throws the checkpoint's own missing-tensor error, naming its file(s)
                    throw new InvalidOperationException($"tensor '{name}' missing but readable");
                }
                if (!info.Shape.Equals(shape))
                    throw new CheckpointFormatException(info.FilePath, $"tensor {Describe(info)} has shape {info.Shape}, expected {shape} from {configName}");
                if (!info.DType.IsFloat())
                    throw new CheckpointFormatException(info.FilePath, $"tensor {Describe(info)} has dtype {info.DType}, expected a float dtype (F32, BF16, F16)");
            }
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static string Describe(TensorInfo info) =>
        info.StoredName is null || info.StoredName == info.Name ? $"'{info.Name}'" : $"'{info.StoredName}' (native '{info.Name}')";
}
