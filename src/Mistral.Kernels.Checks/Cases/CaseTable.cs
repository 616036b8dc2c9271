namespace Mistral.Kernels.Checks.Cases;

/// <summary>
/// Lookup by name for the case tables. Tests take case names as theory data (readable, serializable test names:
/// <c>public static TheoryData&lt;string&gt; Cases =&gt; new(RmsNormCases.Names);</c>) and fetch the case here.
/// </summary>
public static class CaseTable
{
    public static T Find<T>(IEnumerable<T> cases, Func<T, string> name, string wanted) =>
        cases.FirstOrDefault(c => name(c) == wanted) ?? throw new ArgumentException($"no case named '{wanted}'");
}
