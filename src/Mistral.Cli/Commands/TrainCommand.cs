using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;
using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Pretrain;
using Mistral.Runtime.Training.Pretrain.Data;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu train CONFIG.yaml [--set key.path=value ...] [--resume] [--device cpu]`: full-parameter training from
/// scratch (or from model.initial_weights) as the YAML says, with stanford-crfm/mistral's keys. A tokenizing progress
/// line, then one line per logging_steps (step, loss, lr, grad norm, tok/s, MFU, ETA, device memory on a GPU) and per
/// evaluation on stdout; run_dir gets metrics.jsonl and checkpoint-N folders (Hugging Face Trainer layout) on
/// checkpoint_frequency. Ctrl+C (SIGINT) or SIGTERM stops after the current step, writes a checkpoint and says how to
/// resume, then exits 130 or 143 (128 + the signal). Config errors exit 2 naming the file and key.
/// Under `mpirun -np N` (OpenMPI) the N processes train data-parallel (NCCL between GPUs, MPI between CPU ranks), as
/// finetune does: effective_bsz is shared among the ranks, rank 0 prints and writes; every rank prints its own errors,
/// prefixed "rank R:", and a failing rank aborts the whole run (exit 3 on the others).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<FileInfo>("CONFIG") { Description = "Training YAML (see examples/train/gpt2-micro.yaml)" };
        var set = new Option<string[]>("--set") { Description = "Override a config key, e.g. --set training_arguments.max_steps=50 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint-N in run_dir whose checksums verify" };
        var device = new Option<string?>("--device") { Description = $"Override the config's device ({OpsFactory.Auto}, {string.Join(", ", OpsFactory.Names)})" };
        var timeout = DataParallelCommand.CollectiveTimeout("the others (rank 0 tokenizing included)");
        var command = new Command("train", "Train a model from scratch (GPT-2 or Mistral architecture) from a YAML config: checkpoint-N folders in Hugging Face format, resume, eval; data-parallel under mpirun")
            { config, set, resume, device, timeout };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var world = WorldEnvironment.Read(parse.GetValue(timeout));
            var error = parse.InvocationConfiguration.Error;
            var output = world.Rank == 0 ? parse.InvocationConfiguration.Output : TextWriter.Null;
            // The world size divides effective_bsz into per-rank accumulation steps.
            var cfg = PretrainConfigLoader.Load(parse.GetValue(config)!.FullName, parse.GetValue(set) ?? [], world.WorldSize);
            // bf16: the device's default, mixed precision (bf16 activations and working weights, fp32 masters); the cpu
            // computes in fp32 whatever bf16 says. bf16 false: fp32 everywhere (parity).
            using var ops = CommonOptions.OpenOps(parse, parse.GetValue(device) ?? cfg.Device, cfg.Training.Bf16 ? null : "fp32", gpuOrdinal: world.LocalRank);
            using var comm = Communicator.Open(ops, world, line => error.WriteLine($"error: {line}"), ExitCodes.RankFailed);
            return DataParallelCommand.AbortAllOnError(comm, error, () =>
            {
                double? peak = ops.OnDevice is { } onDevice && DevicePeaks.For(onDevice.Device.Info.Name) is { } p ? p.Bf16TFlops * 1e12 : null;
                var t = cfg.Training;
                output.WriteLine($"train on {ops.Name} ({ops.ActivationDType}){DataParallelCommand.Ranks(comm)}: " +
                                 $"{cfg.Model.Id ?? cfg.Model.ConfigPath ?? cfg.Model.InitialWeights} -> {cfg.RunDir} " +
                                 $"({t.MaxSteps} steps of {t.GradientAccumulationSteps}×{t.PerDeviceTrainBatchSize}×{cfg.Model.SeqLen} tokens" +
                                 $"{(comm.WorldSize > 1 ? $" per rank, {t.EffectiveBatchSize} blocks per step" : "")})");
                return Train(cfg, ops, comm, peak, output, parse.GetValue(resume));
            });
        }, WorldEnvironment.ErrorSource()));
        return command;
    }

    private static int Train(PretrainConfig cfg, IOps ops, ICommunicator comm, double? peakFlops, TextWriter output, bool resume)
    {
        // Under mpirun every rank gets the signal; the trainer agrees on the step to stop at.
        using var signals = new StopSignals();
        var tokenizing = new Progress<TokenizeProgress>(p =>
            output.WriteLine($"tokenizing {p.Split}: {p.Documents}/{p.TotalDocuments} documents, {p.Tokens:N0} tokens, {p.TokensPerSecond:N0} tok/s"));
        var trainer = new Pretrainer(cfg, ops, p => Report(output, p, cfg.Training.LoggingSteps), message => output.WriteLine(message), peakFlops, tokenizing, comm);
        var result = trainer.Run(resume, signals.Token);
        output.WriteLine($"{(result.Stopped ? "stopped" : "done")}: {result.Steps} steps, train loss {result.LastTrainLoss:F4}" +
            (result.EvalLoss is { } e ? $", eval loss {e:F4} (perplexity {Math.Exp(e):F2})" : "") +
            $", {result.TokensPerSecond:N0} tok/s" + (result.LastCheckpoint is { } c ? $", checkpoint {c}" : ""));
        output.Flush();
        return result.Stopped && cfg.RunTraining ? signals.StoppedExitCode : ExitCodes.Ok;
    }

    /// <summary>One live line per logged step; MFU "n/a" where the device's peak is unknown (the CPU, an unlisted GPU).</summary>
    internal static string Line(TrainProgress p) =>
        $"step {p.Step,6}/{p.MaxSteps} | loss {p.Loss:F4} | lr {p.LearningRate:0.00e+00} | grad norm {p.GradNorm:F3} | {p.TokensPerSecond,9:N0} tok/s" +
        $" | MFU {(p.Mfu is { } m ? $"{100 * m:F1}%" : "n/a")} | ETA {p.Eta:hh\\:mm\\:ss}" +
        (p.DeviceBytes is { } b ? $" | mem {b / (double)(1L << 30):F2} GiB" : "");

    private static void Report(TextWriter output, TrainProgress p, int loggingSteps)
    {
        if (p.Step % loggingSteps == 0 || p.Step == p.MaxSteps) output.WriteLine(Line(p));
        if (p.EvalLoss is { } eval)
            output.WriteLine($"step {p.Step,6}/{p.MaxSteps} | eval loss {eval:F4} | perplexity {Math.Exp(eval):F2}");
        output.Flush();
    }
}
