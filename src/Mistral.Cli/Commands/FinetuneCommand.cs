using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Kernels.Distributed;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu finetune CONFIG.yaml [--set key.path=value ...] [--resume] [--device cpu]`: LoRA fine-tuning as the
/// YAML says. One progress line per logged step (step, loss, lr, tok/s, ETA) and per evaluation on stdout; run_dir gets
/// metrics.jsonl, checkpoints/step_N and, at the end, merged/ (the base model with LoRA folded in, same layout).
/// Ctrl+C (SIGINT) or SIGTERM stops after the current step and writes a checkpoint to --resume from, then exits 130 or
/// 143 (128 + the signal), as shells and schedulers expect of a process a signal stopped.
/// Under `mpirun -np N` (OpenMPI) the N processes train data-parallel: rank 0 prints and writes; every rank prints its
/// own errors, prefixed "rank R:", and a failing rank aborts the whole run.
/// </summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var config = new Argument<FileInfo>("CONFIG") { Description = "Training YAML (see examples/finetune/tiny.yaml)" };
        var set = new Option<string[]>("--set") { Description = "Override a config key, e.g. --set optim.lr=1e-4 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in run_dir" };
        var device = new Option<string?>("--device") { Description = $"Override the config's device ({OpsFactory.Auto}, {string.Join(", ", OpsFactory.Names)})" };
        var precision = new Option<string?>("--precision") { Description = "Override the config's precision: fp32 (exact parity) or bf16 (cuda/emu activations)" };
        var allowConfigChange = new Option<bool>("--allow-config-change") { Description = "With --resume: continue even if lr, seq_len or another setting that shapes the run differs from the checkpoint's" };
        var timeout = DataParallelCommand.CollectiveTimeout();
        var command = new Command("finetune", "LoRA fine-tuning from a YAML config: checkpoints, resume, merged model; data-parallel under mpirun")
            { config, set, resume, allowConfigChange, device, precision, timeout };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
            {
                var world = WorldEnvironment.Read(parse.GetValue(timeout));
                var error = parse.InvocationConfiguration.Error;
                var output = world.Rank == 0 ? parse.InvocationConfiguration.Output : TextWriter.Null;
                var cfg = TrainConfigLoader.Load(parse.GetValue(config)!.FullName, parse.GetValue(set) ?? []);
                using var ops = CommonOptions.OpenOps(parse, parse.GetValue(device) ?? cfg.Device,
                    parse.GetValue(precision) ?? (cfg.Precision == "auto" ? null : cfg.Precision), gpuOrdinal: world.LocalRank);
                using var comm = Communicator.Open(ops, world, line => error.WriteLine($"error: {line}"), ExitCodes.RankFailed);
                return DataParallelCommand.AbortAllOnError(comm, error, () =>
                {
                    output.WriteLine($"finetune on {ops.Name}{DataParallelCommand.Ranks(comm)}: {cfg.InitialModelPath} -> {cfg.RunDir} " +
                                     $"({cfg.MaxSteps} steps of {cfg.NumMicrobatches}×{cfg.BatchSize}×{cfg.SeqLen} tokens)");
                    return Train(cfg, ops, comm, output, parse.GetValue(resume), parse.GetValue(allowConfigChange));
                });
            }, WorldEnvironment.ErrorSource()));
        return command;
    }

    private static int Train(TrainConfig cfg, Mistral.Kernels.Ops.IOps ops, ICommunicator comm, TextWriter output, bool resume, bool allowConfigChange)
    {
        // Under mpirun every rank gets the signal; the trainer agrees on the step to stop at (any rank cancelled stops all).
        using var signals = new StopSignals();
        var trainer = new Trainer(cfg, ops, p => Report(output, p, cfg.LogFreq), message => output.WriteLine(message), comm);
        var result = trainer.Run(resume, signals.Token, allowConfigChange);
        bool stopped = result.Steps < cfg.MaxSteps;
        output.WriteLine($"{(stopped ? "stopped" : "done")}: {result.Steps} steps, train loss {result.LastTrainLoss:F4}" +
            (result.LastEvalLoss is { } e ? $", eval loss {result.FirstEvalLoss:F4} -> {e:F4}" : "") +
            $", {result.TokensPerSecond:N0} tok/s" + (result.LastCheckpoint is { } c ? $", checkpoint {c}" : ""));
        return stopped ? signals.StoppedExitCode : ExitCodes.Ok;
    }

    private static void Report(TextWriter output, TrainProgress p, int logFreq)
    {
        if (p.Step % logFreq == 0 || p.Step == p.MaxSteps)
            output.WriteLine($"step {p.Step,5}/{p.MaxSteps} | loss {p.Loss:F4} | lr {p.LearningRate:0.00e+00} | grad norm {p.GradNorm:F3} | {p.TokensPerSecond,8:N0} tok/s | ETA {p.Eta:hh\\:mm\\:ss}");
        if (p.EvalLoss is { } eval)
            output.WriteLine($"step {p.Step,5}/{p.MaxSteps} | eval loss {eval:F4} | perplexity {Math.Exp(eval):F2}");
        output.Flush();
    }
}
