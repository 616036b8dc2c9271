using System.Text.Json.Nodes;
using Mistral.Runtime.Training.Pretrain;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class HfTrainerStateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trainer-state").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Write_HasTheKeysOfTransformersTrainerState_AndReadsBack()
    {
        var state = new HfTrainerState(maxSteps: 20, loggingSteps: 2, evalSteps: 10, trainBatchSize: 8, numTrainEpochs: 1);
        state.LogTrain(2, 0.1, 10.5, 1e-3, 3.25);
        state.LogEval(10, 0.5, 6.0, 1.5, 1000);
        state.Saved(10, "/runs/r/checkpoint-10");
        state.LogEval(20, 1.0, 6.5, 1.5, 1000); // worse: the best stays at step 10
        (state.GlobalStep, state.Epoch, state.NumInputTokensSeen, state.TotalFlos) = (20, 1.0, 20480, 1.5e12);
        state.Write(_dir);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, HfTrainerState.FileName)))!.AsObject();
        foreach (var key in new[] { "global_step", "max_steps", "logging_steps", "eval_steps", "save_steps", "train_batch_size", "epoch",
                                    "num_train_epochs", "num_input_tokens_seen", "total_flos", "best_metric", "best_model_checkpoint",
                                    "log_history", "is_world_process_zero", "trial_name" })
            Assert.True(json.ContainsKey(key), key);
        Assert.Equal(20, (int)json["global_step"]!);
        Assert.Equal(6.0, (double)json["best_metric"]!);
        Assert.Equal("/runs/r/checkpoint-10", (string)json["best_model_checkpoint"]!);
        var history = json["log_history"]!.AsArray();
        Assert.Equal(3, history.Count);
        Assert.Equal(10.5, (double)history[0]!["loss"]!);
        Assert.Equal(1e-3, (double)history[0]!["learning_rate"]!);
        Assert.Equal(3.25, (double)history[0]!["grad_norm"]!);
        Assert.Equal(Math.Exp(6.0), (double)history[1]!["eval_perplexity"]!, 9);

        var back = HfTrainerState.Read(_dir);
        Assert.Equal(20, back.GlobalStep);
        Assert.Equal(6.0, back.BestMetric);
        Assert.Equal(10, back.BestGlobalStep);
        Assert.Equal(3, back.LogHistory.Count);
        Assert.Equal(json.ToJsonString(), back.ToJson().ToJsonString());
    }

    [Fact]
    public void LogTrain_NonFiniteLoss_WritesNullNotNaN()
    {
        var state = new HfTrainerState(2, 1, 1, 1, 1);
        state.LogTrain(1, 0, double.NaN, 0, double.PositiveInfinity);
        state.Write(_dir);
        var entry = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, HfTrainerState.FileName)))!["log_history"]![0]!.AsObject();
        Assert.Null(entry["loss"]);
        Assert.Null(entry["grad_norm"]);
    }
}
