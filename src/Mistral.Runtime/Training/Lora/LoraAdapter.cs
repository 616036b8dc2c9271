using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// The low-rank update of one projection W [out, in]: A [rank, in], B [out, rank], y = x·Wᵀ + Scaling·(x·Aᵀ)·Bᵀ.
/// Module is the reference name without the suffix, e.g. "layers.0.attention.wq".
/// </summary>
public sealed record LoraAdapter(string Module, TrainableParameter A, TrainableParameter B, float Scaling)
{
    public int Rank => A.Value.Shape[0];
    public int In => A.Value.Shape[1];
    public int Out => B.Value.Shape[0];

    public static string AName(string module) => module + ".lora_A.weight";
    public static string BName(string module) => module + ".lora_B.weight";

    /// <summary>"layers.{i}.attention.wq" for attention targets, "layers.{i}.feed_forward.w1" for the MLP.</summary>
    public static string ModuleName(int layer, string target) => target switch
    {
        "wq" or "wk" or "wv" or "wo" => $"layers.{layer}.attention.{target}",
        "w1" or "w2" or "w3" => $"layers.{layer}.feed_forward.{target}",
        _ => throw new ArgumentException($"unknown LoRA target '{target}'", nameof(target)),
    };

    /// <summary>[out, in] of each target's base weight.</summary>
    public static (int Out, int In) TargetShape(Model.ModelConfig c, string target) => target switch
    {
        "wq" => (c.NHeads * c.HeadDim, c.Dim),
        "wk" or "wv" => (c.NKvHeads * c.HeadDim, c.Dim),
        "wo" => (c.Dim, c.NHeads * c.HeadDim),
        "w1" or "w3" => (c.HiddenDim, c.Dim),
        "w2" => (c.Dim, c.HiddenDim),
        _ => throw new ArgumentException($"unknown LoRA target '{target}'", nameof(target)),
    };

    public override string ToString() => $"{Module} A{A.Value.Shape} B{B.Value.Shape} s={Scaling}";
}
