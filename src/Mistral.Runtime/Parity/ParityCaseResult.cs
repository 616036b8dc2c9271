namespace Mistral.Runtime.Parity;

/// <summary>
/// The outcome of one case: the largest absolute difference against the reference (null when nothing numeric was
/// compared), whether token sequences matched (null when the kind has none), the tolerance applied, and a short detail
/// (the worst tensor, or why a case was skipped).
/// </summary>
public sealed record ParityCaseResult(string Name, string Kind, ParityStatus Status, double? MaxAbsDiff, bool? TokensEqual, double? Tolerance, string Detail)
{
    public static ParityCaseResult Skip(ParityCase c, string reason) => new(c.Name, c.Kind, ParityStatus.Skip, null, null, null, reason);

    /// <summary>PASS when the difference is within tolerance (NaN never is) and tokens, if any, are equal.</summary>
    public static ParityCaseResult Judge(ParityCase c, double maxAbsDiff, bool? tokensEqual, double tolerance, string detail)
    {
        bool pass = maxAbsDiff <= tolerance && tokensEqual != false;
        return new(c.Name, c.Kind, pass ? ParityStatus.Pass : ParityStatus.Fail, maxAbsDiff, tokensEqual, tolerance, detail);
    }

    /// <summary>One aligned line: name, kind, max abs diff, tokens, verdict, detail.</summary>
    public override string ToString()
    {
        string diff = MaxAbsDiff is double d ? $"max_abs_diff {d:E2}" : "max_abs_diff -";
        string tol = Tolerance is double t ? $" (tol {t:G3})" : "";
        string tokens = TokensEqual switch { true => "tokens equal", false => "tokens DIFFER", null => "tokens -" };
        string verdict = Status.ToString().ToUpperInvariant();
        return $"{verdict,-4}  {Name,-20} {Kind,-14} {diff}{tol,-13}  {tokens,-13}  {Detail}";
    }
}
