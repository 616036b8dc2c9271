using System.Text.Json;

namespace Mistral.Runtime.Training.Metrics;

/// <summary>
/// The train and eval loss series of a run and its learning rate, read from run_dir/metrics.jsonl (finetune's and
/// train's alike). A step logged twice (a run resumed from an earlier checkpoint) keeps its last value. Unparseable
/// lines are errors naming the line.
/// </summary>
public sealed record LossCurves(IReadOnlyList<(int Step, double Loss)> Train, IReadOnlyList<(int Step, double Loss)> Eval)
{
    /// <summary>The learning rate of each logged training step (empty for a file without "lr").</summary>
    public IReadOnlyList<(int Step, double Lr)> LearningRate { get; init; } = [];

    public static LossCurves Read(string runDir)
    {
        var path = Path.Combine(runDir, MetricsLog.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no metrics file (is this a run directory of `mistral-cu finetune` or `train`?)", path);
        var train = new SortedDictionary<int, double>();
        var eval = new SortedDictionary<int, double>();
        var lr = new SortedDictionary<int, double>();
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
                if (root.TryGetProperty("lr", out var r) && r.ValueKind != JsonValueKind.Null) lr[step] = r.GetDouble();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a metrics record ({ex.Message})");
            }
        }
        return new LossCurves(train.Select(p => (p.Key, p.Value)).ToList(), eval.Select(p => (p.Key, p.Value)).ToList())
        {
            LearningRate = lr.Select(p => (p.Key, p.Value)).ToList(),
        };
    }
}
