namespace Mistral.Runtime.Parity;

/// <summary>A kind this run skips on purpose, saying why (e.g. fp32-only comparisons during a bf16 run).</summary>
public sealed class SkippedCaseKind(string kind, string reason) : IParityCaseKind
{
    public string Kind => kind;

    public ParityCaseResult Run(ParityCase testCase, ParityContext context) => ParityCaseResult.Skip(testCase, reason);
}
