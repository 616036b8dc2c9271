namespace Mistral.Runtime.Parity;

/// <summary>Every case kind this build can run. Add a kind here and `mistral-cu parity` runs it.</summary>
public static class ParityCaseKinds
{
    public static IReadOnlyList<IParityCaseKind> All { get; } =
    [
        new ForwardCaseKind(),
        new IntermediatesCaseKind(),
        new GreedyCaseKind(),
    ];
}
