using System.Text.Json;

namespace Mistral.Runtime.Training.Metrics;

/// <summary>
/// The train and eval loss series of a run, read from run_dir/metrics.jsonl. A step logged twice (a run resumed from
/// an earlier checkpoint) keeps its last value. Unparseable lines are errors naming the line.
/// </summary>
public sealed record LossCurves(IReadOnlyList<(int Step, double Loss)> Train, IReadOnlyList<(int Step, double Loss)> Eval)
{
    public static LossCurves Read(string runDir)
    {
        var path = Path.Combine(runDir, MetricsLog.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no metrics file (is this a run directory of `mistral-cu finetune`?)", path);
        var train = new SortedDictionary<int, double>();
        var eval = new SortedDictionary<int, double>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                int step = root.GetProperty("step").GetInt32();
                // null: a value that was not finite (JSON has no NaN); there is no point to draw.
                if (root.TryGetProperty("train_loss", out var t) && t.ValueKind != JsonValueKind.Null) train[step] = t.GetDouble();
                if (root.TryGetProperty("eval_loss", out var e) && e.ValueKind != JsonValueKind.Null) eval[step] = e.GetDouble();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a metrics record ({ex.Message})");
            }
        }
        return new LossCurves(train.Select(p => (p.Key, p.Value)).ToList(), eval.Select(p => (p.Key, p.Value)).ToList());
    }
}
