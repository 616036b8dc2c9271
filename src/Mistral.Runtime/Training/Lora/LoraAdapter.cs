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

    public override string ToString() => $"{Module} A{A.Value.Shape} B{B.Value.Shape} s={Scaling}";
}
