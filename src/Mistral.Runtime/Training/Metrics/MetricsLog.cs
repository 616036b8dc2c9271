using System.Text.Json;

namespace Mistral.Runtime.Training.Metrics;

/// <summary>
/// run_dir/metrics.jsonl: one JSON object per logged step ({"step", "train_loss", "lr", "grad_norm", "tokens",
/// "tokens_per_s", "elapsed_s"}) and per evaluation ({"step", "eval_loss", "eval_perplexity"}); perplexity = exp(loss).
/// Appended and flushed line by line, so a resumed run continues the same file and `plot` can read it while training.
/// </summary>
public sealed class MetricsLog(string runDir) : IDisposable
{
    public const string FileName = "metrics.jsonl";

    private readonly StreamWriter _writer = new(Path.Combine(runDir, FileName), append: true);

    public void Train(int step, double loss, double lr, double gradNorm, long tokens, double tokensPerSecond, double elapsedSeconds) =>
        Write(new Dictionary<string, object>
        {
            ["step"] = step, ["train_loss"] = loss, ["train_perplexity"] = Math.Exp(loss), ["lr"] = lr, ["grad_norm"] = gradNorm,
            ["tokens"] = tokens, ["tokens_per_s"] = tokensPerSecond, ["elapsed_s"] = elapsedSeconds,
        });

    public void Eval(int step, double loss) =>
        Write(new Dictionary<string, object> { ["step"] = step, ["eval_loss"] = loss, ["eval_perplexity"] = Math.Exp(loss) });

    private void Write(Dictionary<string, object> record)
    {
        _writer.WriteLine(JsonSerializer.Serialize(record));
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
