using System.Text.Json.Nodes;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// The Mistral family: mistral-src's native layout (params.json + consolidated.safetensors | consolidated.00.pth) and
/// Hugging Face MistralForCausalLM (config.json model_type "mistral", wq/wk rows un-permuted at load); RMSNorm, RoPE,
/// SwiGLU, GQA, sliding-window attention over a rolling cache (<see cref="MistralModel"/>).
/// </summary>
public sealed class MistralFamily : ModelFamily
{
    public const string FamilyName = "mistral";

    public static MistralFamily Instance { get; } = new();

    private MistralFamily() { }

    public override string Name => FamilyName;
    public override IReadOnlyList<string> HfModelTypes { get; } = ["mistral"];
    public override bool ReadsParamsJson => true;

    public override IModelConfig ReadParamsJson(string path) => MistralConfigReader.FromParamsJson(path);
    public override IModelConfig ReadHfConfig(string path) => MistralConfigReader.FromHfConfigJson(path);

    public override JsonObject HfConfigJson(IModelConfig config, DType storedDType) => MistralConfigWriter.ToConfigJson(ConfigOf<MistralConfig>(config), storedDType);

    public override CheckpointSchema Schema(IModelConfig config)
    {
        var c = ConfigOf<MistralConfig>(config);
        var tied = c.TieWordEmbeddings
            ? new Dictionary<string, string> { [MistralTensorNames.Output] = MistralTensorNames.TokEmbeddings }
            : new Dictionary<string, string>();
        return new CheckpointSchema(MistralTensorNames.Expected(c), tied, new MistralHfTensorNames(c));
    }

    /// <summary><see cref="MistralInit"/>.</summary>
    public override IEnumerable<HostTensor> Initialize(IModelConfig config, ulong seed) => MistralInit.Initialize(ConfigOf<MistralConfig>(config), seed);

    public override ICausalLm Create(IOps ops, ModelWeights weights) => new MistralModel(ops, ConfigOf<MistralConfig>(weights.Config), weights);
}
