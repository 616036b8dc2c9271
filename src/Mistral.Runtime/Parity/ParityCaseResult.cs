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
        string diff = MaxAbsDiff is double d ? d.ToString("0.00e+00") : "-";
        string tol = Tolerance is double t ? t.ToString("0e+00") : "-";
        string tokens = TokensEqual switch { true => "equal", false => "DIFFER", null => "-" };
        string verdict = Status.ToString().ToUpperInvariant();
        return $"{verdict,-4}  {Name,-16} {Kind,-13}  max_abs_diff {diff,-8}  tol {tol,-5}  tokens {tokens,-6}  {Detail}";
    }
}
