using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// trainer_state.json of a checkpoint-N folder, with the keys transformers' TrainerState.save_to_json writes, so tools
/// that read Hugging Face Trainer runs read ours: global_step, max_steps, logging_steps, eval_steps, save_steps,
/// train_batch_size, epoch, num_train_epochs, num_input_tokens_seen, total_flos, best_metric (the lowest eval_loss),
/// best_model_checkpoint, best_global_step, and log_history — one record per logged step
/// ({"step", "epoch", "loss", "learning_rate", "grad_norm"}) and per evaluation ({"step", "epoch", "eval_loss",
/// "eval_perplexity", "eval_runtime", "eval_tokens_per_second"}), in step order. A resumed run reads it back and continues.
/// </summary>
public sealed class HfTrainerState
{
    public const string FileName = "trainer_state.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly List<JsonObject> _history = [];

    public HfTrainerState(int maxSteps, int loggingSteps, int evalSteps, int trainBatchSize, double numTrainEpochs)
    {
        (MaxSteps, LoggingSteps, EvalSteps, TrainBatchSize, NumTrainEpochs) = (maxSteps, loggingSteps, evalSteps, trainBatchSize, numTrainEpochs);
    }

    public int GlobalStep { get; set; }
    public int MaxSteps { get; }
    public int LoggingSteps { get; }
    public int EvalSteps { get; }
    /// <summary>Blocks per optimizer step over every rank (HF: per_device_train_batch_size × accumulation × world size).</summary>
    public int TrainBatchSize { get; }
    public double NumTrainEpochs { get; }
    public double Epoch { get; set; }
    public long NumInputTokensSeen { get; set; }
    /// <summary>Training FLOPs so far (<see cref="TrainingFlops.PerToken"/> × tokens).</summary>
    public double TotalFlos { get; set; }
    public double? BestMetric { get; private set; }
    public string? BestModelCheckpoint { get; private set; }
    public int? BestGlobalStep { get; private set; }
    public IReadOnlyList<JsonObject> LogHistory => _history;

    public void LogTrain(int step, double epoch, double loss, double learningRate, double gradNorm) =>
        _history.Add(new JsonObject
        {
            ["epoch"] = epoch, ["grad_norm"] = Finite(gradNorm), ["learning_rate"] = learningRate, ["loss"] = Finite(loss), ["step"] = step,
        });

    public void LogEval(int step, double epoch, double loss, double runtimeSeconds, double tokensPerSecond)
    {
        _history.Add(new JsonObject
        {
            ["epoch"] = epoch, ["eval_loss"] = Finite(loss), ["eval_perplexity"] = Finite(Math.Exp(loss)),
            ["eval_runtime"] = runtimeSeconds, ["eval_tokens_per_second"] = tokensPerSecond, ["step"] = step,
        });
        if (double.IsFinite(loss) && (BestMetric is null || loss < BestMetric))
            (BestMetric, BestGlobalStep, BestModelCheckpoint) = (loss, step, null);
    }

    /// <summary>A checkpoint of <paramref name="step"/> is being written to <paramref name="folder"/>: it is the best one when the best eval was at that step.</summary>
    public void Saved(int step, string folder)
    {
        if (BestGlobalStep == step) BestModelCheckpoint = folder;
    }

    // JSON has no NaN or infinity (transformers writes them as bare NaN, which strict readers refuse): null instead.
    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    public JsonObject ToJson() => new()
    {
        ["best_global_step"] = BestGlobalStep,
        ["best_metric"] = BestMetric,
        ["best_model_checkpoint"] = BestModelCheckpoint,
        ["epoch"] = Epoch,
        ["eval_steps"] = EvalSteps,
        ["global_step"] = GlobalStep,
        ["is_hyper_param_search"] = false,
        ["is_local_process_zero"] = true,
        ["is_world_process_zero"] = true,
        ["log_history"] = new JsonArray([.. _history.Select(h => h.DeepClone())]),
        ["logging_steps"] = LoggingSteps,
        ["max_steps"] = MaxSteps,
        ["num_input_tokens_seen"] = NumInputTokensSeen,
        ["num_train_epochs"] = NumTrainEpochs,
        ["save_steps"] = 0, // the schedule is checkpoint_frequency's, not a fixed interval
        ["total_flos"] = TotalFlos,
        ["train_batch_size"] = TrainBatchSize,
        ["trial_name"] = null,
        ["trial_params"] = null,
    };

    public void Write(string folder) => File.WriteAllText(Path.Combine(folder, FileName), ToJson().ToJsonString(Indented));

    /// <summary>Reads a checkpoint's trainer_state.json (resume), naming the file and key on anything missing or malformed.</summary>
    public static HfTrainerState Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CheckpointFormatException(path, "not a JSON object");
            T Get<T>(string key) => root[key] is JsonValue v && v.TryGetValue(out T? value) ? value
                : throw new CheckpointFormatException(path, $"key '{key}' is missing or has the wrong type");
            var state = new HfTrainerState(Get<int>("max_steps"), Get<int>("logging_steps"), Get<int>("eval_steps"), Get<int>("train_batch_size"), Get<double>("num_train_epochs"))
            {
                GlobalStep = Get<int>("global_step"),
                Epoch = Get<double>("epoch"),
                NumInputTokensSeen = Get<long>("num_input_tokens_seen"),
                TotalFlos = Get<double>("total_flos"),
                BestMetric = root["best_metric"]?.GetValue<double>(),
                BestGlobalStep = root["best_global_step"]?.GetValue<int>(),
                BestModelCheckpoint = root["best_model_checkpoint"]?.GetValue<string>(),
            };
            var history = root["log_history"] as JsonArray ?? throw new CheckpointFormatException(path, "key 'log_history' is missing or not a list");
            foreach (var entry in history)
                state._history.Add(entry is JsonObject o ? (JsonObject)o.DeepClone() : throw new CheckpointFormatException(path, "log_history holds a non-object"));
            return state;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException(path, $"not a valid trainer state: {e.Message}");
        }
        catch (FileNotFoundException)
        {
            throw new CheckpointFormatException(path, "missing");
        }
    }
}
