namespace Mistral.Runtime.Training.Config;

/// <summary>
/// LoRA adapters: y = x·Wᵀ + Scaling·(dropout(x)·Aᵀ)·Bᵀ on every Targets projection (wq wk wv wo w1 w2 w3) of every layer.
/// Scaling is used as given (not divided by Rank). InitFile: safetensors with lora_A/lora_B to start from instead of
/// Kaiming-uniform A and zero B. TrainNorms: whether the RMSNorm weights are trained too.
/// </summary>
public sealed record LoraConfig(int Rank, double Dropout, double Scaling, IReadOnlyList<string> Targets, string? InitFile, bool TrainNorms)
{
    public static readonly IReadOnlyList<string> AllTargets = ["wq", "wk", "wv", "wo", "w1", "w2", "w3"];
}
