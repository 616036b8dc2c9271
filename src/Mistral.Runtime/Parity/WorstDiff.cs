namespace Mistral.Runtime.Parity;

/// <summary>Running maximum of |expected − actual| over several named tensors; NaN anywhere makes the maximum NaN.</summary>
internal sealed class WorstDiff
{
    public double Max { get; private set; }
    public string Worst { get; private set; } = "-";

    public double Add(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual) => Add(name, expected, actual, relative: false);

    /// <summary>|expected − actual| / |expected| (|actual| where expected is 0), e.g. learning rates and norms.</summary>
    public double AddRelative(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual) => Add(name, expected, actual, relative: true);

    private double Add(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, bool relative)
    {
        if (expected.Length != actual.Length) throw new ArgumentException($"{name}: {actual.Length} values, reference has {expected.Length}");
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (relative && expected[i] != 0) d /= Math.Abs((double)expected[i]);
            if (double.IsNaN(d)) { max = double.NaN; break; }
            max = Math.Max(max, d);
        }
        bool first = Worst == "-";
        if (!double.IsNaN(Max) && (first || double.IsNaN(max) || max > Max))
        {
            Max = max;
            Worst = name;
        }
        return max;
    }
}
