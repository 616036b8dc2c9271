using System.Globalization;
using System.Text;

namespace Mistral.Serving.Metrics;

/// <summary>A Prometheus histogram: cumulative counts per upper bound, plus the sum and count. Thread-safe.</summary>
public sealed class Histogram(string name, string help, double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1]; // the last bucket is +Inf
    private double _sum;
    private long _count;
    private readonly Lock _lock = new();

    public void Observe(double value)
    {
        lock (_lock)
        {
            int bucket = 0;
            while (bucket < bounds.Length && value > bounds[bucket]) bucket++;
            _counts[bucket]++;
            _sum += value;
            _count++;
        }
    }

    public long Count
    {
        get { lock (_lock) return _count; }
    }

    /// <summary>Appends the histogram in the Prometheus text format (HELP, TYPE, _bucket{le}, _sum, _count).</summary>
    public void WriteTo(StringBuilder text)
    {
        lock (_lock)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += _counts[i];
                string le = i < bounds.Length ? bounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
                text.Append(name).Append("_bucket{le=\"").Append(le).Append("\"} ").Append(cumulative).Append('\n');
            }
            text.Append(name).Append("_sum ").Append(_sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count ").Append(_count).Append('\n');
        }
    }
}
