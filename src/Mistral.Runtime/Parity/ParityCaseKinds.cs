namespace Mistral.Runtime.Parity;

/// <summary>Every case kind this build can run. Add a kind here and `mistral-cu parity` runs it.</summary>
public static class ParityCaseKinds
{
    public static IReadOnlyList<IParityCaseKind> All { get; } =
    [
        new ForwardCaseKind(),
        new IntermediatesCaseKind(),
        new GreedyCaseKind(),
        new LoraTrainCaseKind(),
        new FullTrainCaseKind(),
        new DataCaseKind(),
    ];

    /// <summary>
    /// The kinds for a run whose activations are stored in <paramref name="activations"/>: <see cref="All"/> for fp32;
    /// for bf16, the forward judged by top-1 agreement and greedy tokens up to the first near-tie, with the fp32-only
    /// comparison of intermediate activations skipped.
    /// </summary>
    public static IReadOnlyList<IParityCaseKind> For(Mistral.Kernels.Tensors.DType activations) =>
        activations == Mistral.Kernels.Tensors.DType.F32
            ? All
            : [new Bf16ForwardCaseKind(), new SkippedCaseKind("intermediates", "bf16 run: intermediate activations are compared in fp32 only"), new Bf16GreedyCaseKind(), new DataCaseKind()];
}
