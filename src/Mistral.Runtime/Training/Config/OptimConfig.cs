namespace Mistral.Runtime.Training.Config;

/// <summary>AdamW and its learning-rate schedule. Schedule: "constant", "cosine" (linear warm-up + cosine) or "one_cycle" (torch OneCycleLR).</summary>
public sealed record OptimConfig(
    double Lr,
    double WeightDecay,
    double PctStart,
    double Beta1,
    double Beta2,
    double Eps,
    string Schedule,
    int WarmupSteps);
