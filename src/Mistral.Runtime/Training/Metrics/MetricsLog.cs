using System.Text.Json;

namespace Mistral.Runtime.Training.Metrics;

/// <summary>
/// run_dir/metrics.jsonl: one JSON object per logged step ({"step", "train_loss", "lr", "grad_norm", "tokens",
/// "tokens_per_s", "elapsed_s"}, and "mfu", "device_bytes" when known) and per evaluation ({"step", "eval_loss",
/// "eval_perplexity"}, and "eval_tokens_per_s" when timed); perplexity = exp(loss).
/// Appended and flushed line by line, so a resumed run continues the same file and `plot` can read it while training.
/// A run that starts at step S (0 for a fresh run, the checkpoint's step on resume) first drops the records after S
/// (and a line torn by a crash): they belong to steps that are about to be run again. A non-finite value is null.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _writer;

    public MetricsLog(string runDir, int startStep = 0)
    {
        var path = Path.Combine(runDir, FileName);
        TruncateAfter(path, startStep);
        _writer = new StreamWriter(path, append: true);
    }

    /// <summary>Keeps the records of steps ≤ <paramref name="step"/>, rewriting the file by a temporary name and a rename.</summary>
    public static void TruncateAfter(string path, int step)
    {
        if (!File.Exists(path)) return;
        var kept = File.ReadLines(path).Where(line => StepOf(line) is int s && s <= step).ToList();
        var temp = path + ".tmp";
        File.WriteAllLines(temp, kept);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The step of a metrics line, or null for a line that is not a whole record (torn by a crash).</summary>
    private static int? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt32(out int step) ? step : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <param name="mfu">model FLOPs utilisation (train's <c>TrainingFlops</c>), omitted when the device's peak is unknown.</param>
    /// <param name="deviceBytes">device memory held, omitted on the CPU.</param>
    public void Train(int step, double loss, double lr, double gradNorm, long tokens, double tokensPerSecond, double elapsedSeconds,
        double? mfu = null, long? deviceBytes = null) =>
        Write(new Dictionary<string, object?>
        {
            ["step"] = step, ["train_loss"] = loss, ["train_perplexity"] = Math.Exp(loss), ["lr"] = lr, ["grad_norm"] = gradNorm,
            ["tokens"] = tokens, ["tokens_per_s"] = tokensPerSecond, ["elapsed_s"] = elapsedSeconds, ["mfu"] = mfu, ["device_bytes"] = deviceBytes,
        });

    public void Eval(int step, double loss, double? tokensPerSecond = null) =>
        Write(new Dictionary<string, object?> { ["step"] = step, ["eval_loss"] = loss, ["eval_perplexity"] = Math.Exp(loss), ["eval_tokens_per_s"] = tokensPerSecond });

    // Optional figures that are absent (null) are left out; a value that is not finite is written as null.
    private void Write(Dictionary<string, object?> record)
    {
        var finite = record.Where(p => p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value is double d && !double.IsFinite(d) ? null : p.Value);
        _writer.WriteLine(JsonSerializer.Serialize(finite));
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
