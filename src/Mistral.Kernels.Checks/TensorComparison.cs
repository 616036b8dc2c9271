using System.Text;

namespace Mistral.Kernels.Checks;

/// <summary>Element-wise comparison that reports evidence: the worst element, its index, both values and the first few.
/// The judgement behind `mistral-cu selftest` and the tests' TensorAssert (which throws what this returns).</summary>
public static class TensorComparison
{
    /// <summary>Null when |actual - expected| &lt;= abs + rel·|expected| for every element (NaN never passes), else the evidence.</summary>
    public static string? Mismatch(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double abs, double rel = 0, string what = "tensor")
    {
        if (expected.Length != actual.Length)
            return $"{what}: length {actual.Length}, expected {expected.Length}";
        int worst = -1;
        double worstExcess = double.NegativeInfinity, worstDiff = 0;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            double allowed = abs + rel * Math.Abs(expected[i]);
            double excess = double.IsNaN(diff) ? double.PositiveInfinity : diff - allowed;
            if (excess > 0) bad++;
            if (excess > worstExcess) { worstExcess = excess; worst = i; worstDiff = diff; }
        }
        if (bad == 0) return null;
        var msg = new StringBuilder();
        msg.Append($"{what}: {bad} of {expected.Length} elements outside abs {abs:G3} + rel {rel:G3}; ");
        msg.Append($"worst at [{worst}]: actual {actual[worst]:G9}, expected {expected[worst]:G9}, diff {worstDiff:G3}\n");
        int n = Math.Min(6, expected.Length);
        msg.Append("first expected: ").AppendJoin(", ", expected[..n].ToArray().Select(v => v.ToString("G6"))).Append('\n');
        msg.Append("first actual:   ").AppendJoin(", ", actual[..n].ToArray().Select(v => v.ToString("G6")));
        return msg.ToString();
    }

    /// <summary>Largest |a - b|; NaN if either holds a NaN where the other does not match it.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}");
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) return double.NaN;
            if (d > max) max = d;
        }
        return max;
    }
}
