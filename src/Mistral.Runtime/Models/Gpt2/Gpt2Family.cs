using System.Text.Json.Nodes;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// The GPT-2 family: Hugging Face GPT2LMHeadModel checkpoints (config.json model_type "gpt2"; model.safetensors with or
/// without the "transformer." prefix, sharded, or pytorch_model.bin; Conv1D weights transposed and c_attn split into
/// q, k, v at load); learned positions, LayerNorm with bias, GELU, full causal attention, tied head (<see cref="Gpt2Model"/>).
/// </summary>
public sealed class Gpt2Family : ModelFamily
{
    public const string FamilyName = "gpt2";

    public static Gpt2Family Instance { get; } = new();

    private Gpt2Family() { }

    public override string Name => FamilyName;
    public override IReadOnlyList<string> HfModelTypes { get; } = [Gpt2ConfigReader.ModelType];

    public override IModelConfig ReadHfConfig(string path) => Gpt2ConfigReader.FromConfigJson(path);

    public override JsonObject HfConfigJson(IModelConfig config, DType storedDType) => Gpt2ConfigWriter.ToConfigJson(ConfigOf<Gpt2Config>(config), storedDType);

    /// <summary>
    /// The engine's tensors (c_attn as q, k, v thirds); the tied head is wte itself, so nothing is listed twice. The
    /// Hugging Face map fuses q|k|v back into c_attn and stores Conv1D weights [in, out] (<see cref="Gpt2HfTensorNames"/>).
    /// </summary>
    public override CheckpointSchema Schema(IModelConfig config)
    {
        var c = ConfigOf<Gpt2Config>(config);
        return new(Gpt2TensorNames.EngineExpected(c), new Dictionary<string, string>(), new Gpt2HfTensorNames(c));
    }

    public override bool HasHfWeights(string directory) => Gpt2Checkpoint.Exists(directory);

    public override Checkpoint OpenHf(string directory, IModelConfig config)
    {
        return new Gpt2SplitCheckpoint(Gpt2Checkpoint.Open(directory, ConfigOf<Gpt2Config>(config)));
    }

    public override string HfWeightFiles =>
        $"{Gpt2Checkpoint.SafeTensorsFileName}, {Gpt2Checkpoint.SafeTensorsIndexFileName}, {Gpt2Checkpoint.PytorchFileName} or {Gpt2Checkpoint.PytorchIndexFileName}";

    /// <summary><see cref="Gpt2Init"/>.</summary>
    public override IEnumerable<HostTensor> Initialize(IModelConfig config, ulong seed) => Gpt2Init.Initialize(ConfigOf<Gpt2Config>(config), seed);

    public override ICausalLm Create(IOps ops, ModelWeights weights) => new Gpt2Model(ops, ConfigOf<Gpt2Config>(weights.Config), weights);
}
