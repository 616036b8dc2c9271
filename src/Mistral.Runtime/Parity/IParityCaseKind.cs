namespace Mistral.Runtime.Parity;

/// <summary>
/// Runs the cases of one kind of index.json ("forward", "greedy", …). Kinds are registered in
/// <see cref="ParityCaseKinds.All"/>; a case whose kind has no runner is reported as SKIP.
/// A malformed case throws <see cref="ParityFormatException"/>; a numeric mismatch is a FAIL result, not an exception.
/// </summary>
public interface IParityCaseKind
{
    string Kind { get; }

    ParityCaseResult Run(ParityCase testCase, ParityContext context);
}
