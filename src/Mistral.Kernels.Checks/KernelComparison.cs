using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>The outputs of one kernel case next to the reference, each with the tolerance it must meet.</summary>
public sealed class KernelComparison
{
    private readonly List<(string Name, float[] Expected, float[] Actual, double Abs, double Rel)> _outputs = [];

    /// <summary>Adds an output compared with <see cref="KernelTolerance.For"/> of its storage dtype.</summary>
    public KernelComparison Add(string name, float[] expected, float[] actual, DType storage)
    {
        var (abs, rel) = KernelTolerance.For(storage);
        return Add(name, expected, actual, abs, rel);
    }

    public KernelComparison Add(string name, float[] expected, float[] actual, double abs, double rel)
    {
        _outputs.Add((name, expected, actual, abs, rel));
        return this;
    }

    /// <summary>Integer outputs must match exactly.</summary>
    public KernelComparison AddExact(string name, int[] expected, int[] actual) =>
        Add(name, expected.Select(v => (float)v).ToArray(), actual.Select(v => (float)v).ToArray(), 0, 0);

    /// <summary>Largest |actual − expected| over all outputs (NaN if any output has a NaN mismatch).</summary>
    public double MaxAbsError => _outputs.Count == 0 ? 0 : _outputs.Max(o => TensorComparison.MaxAbsDiff(o.Expected, o.Actual));

    /// <summary>Largest |actual − expected| / |expected| over elements with |expected| ≥ 1e-3 (smaller ones are judged by the absolute part).</summary>
    public double MaxRelError
    {
        get
        {
            double max = 0;
            foreach (var o in _outputs)
                for (int i = 0; i < o.Expected.Length; i++)
                {
                    double e = Math.Abs(o.Expected[i]);
                    if (e < 1e-3) continue;
                    double r = Math.Abs((double)o.Actual[i] - o.Expected[i]) / e;
                    if (double.IsNaN(r)) return double.NaN;
                    max = Math.Max(max, r);
                }
            return max;
        }
    }

    /// <summary>Null when every output is within tolerance, else the evidence (worst element, values) of the first that is not.</summary>
    public string? Failure() =>
        _outputs.Select(o => TensorComparison.Mismatch(o.Expected, o.Actual, o.Abs, o.Rel, o.Name)).FirstOrDefault(m => m is not null);
}
