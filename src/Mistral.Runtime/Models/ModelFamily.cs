using System.Text.Json.Nodes;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models;

/// <summary>
/// One model family (Mistral, GPT-2, ...): its config reader, its tensor names and their shapes (<see cref="Schema"/>),
/// the layout conversion its Hugging Face checkpoints need at load, and its forward composed of modules
/// (<see cref="Create"/>). Everything family-specific lives behind this class, in the family's folder under Models/;
/// <see cref="ModelFamilies"/> lists them. Configs handed back are the family's own record.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The name configs report (<see cref="IModelConfig.Family"/>), e.g. "mistral".</summary>
    public abstract string Name { get; }

    /// <summary>The config.json <c>model_type</c> values this family reads.</summary>
    public abstract IReadOnlyList<string> HfModelTypes { get; }

    /// <summary>True when the family also has mistral-src's native layout (params.json + consolidated.*).</summary>
    public virtual bool ReadsParamsJson => false;

    /// <summary>Reads a native params.json; called only for a family that <see cref="ReadsParamsJson"/>.</summary>
    public virtual IModelConfig ReadParamsJson(string path) =>
        throw new InvalidOperationException($"the {Name} family has no native params.json layout");

    /// <summary>Reads and validates a Hugging Face config.json (errors name the file and the field).</summary>
    public abstract IModelConfig ReadHfConfig(string path);

    /// <summary>
    /// The config as the Hugging Face config.json that transformers loads (model_type, architectures, torch_dtype of
    /// <paramref name="storedDType"/>) and <see cref="ReadHfConfig"/> reads back equal; what writing a model made in
    /// memory needs (<see cref="Model.HfModelWriter"/>).
    /// </summary>
    public abstract JsonObject HfConfigJson(IModelConfig config, DType storedDType);

    /// <summary>Every tensor of a model of this config, the ties between them and the Hugging Face name map.</summary>
    public abstract CheckpointSchema Schema(IModelConfig config);

    /// <summary>Whether <paramref name="directory"/> holds this family's Hugging Face weights.</summary>
    public virtual bool HasHfWeights(string directory) => HfCheckpoint.Exists(directory);

    /// <summary>The family's Hugging Face weights in <paramref name="directory"/> under native names, in native layout.</summary>
    public virtual Checkpoint OpenHf(string directory, IModelConfig config) => HfCheckpoint.Open(directory, Schema(config));

    /// <summary>What <see cref="OpenHf"/> expects to find, for the error when a directory has a config but no weights.</summary>
    public virtual string HfWeightFiles => $"{HfCheckpoint.SingleFileName} or {HfCheckpoint.IndexFileName} with its shards";

    /// <summary>
    /// Initial weights for training from scratch, fp32 on the host under native names in schema order (tied tensors once),
    /// deterministic from <paramref name="seed"/>: the same seed gives the same bytes on every machine.
    /// </summary>
    public abstract IEnumerable<HostTensor> Initialize(IModelConfig config, ulong seed);

    /// <summary>The model over <paramref name="weights"/> (resident on <paramref name="ops"/>, not owned by the model).</summary>
    public abstract ICausalLm Create(IOps ops, ModelWeights weights);

    /// <summary>The config as this family's record; a config of another family is a programming error.</summary>
    protected T ConfigOf<T>(IModelConfig config) where T : IModelConfig =>
        config is T own ? own : throw new ArgumentException($"the {Name} family was handed a '{config.Family}' config", nameof(config));
}
