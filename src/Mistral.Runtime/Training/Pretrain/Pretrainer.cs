using System.Diagnostics;
using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Metrics;
using Mistral.Runtime.Training.Pretrain.Data;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// `mistral-cu train`: full-parameter training from a <see cref="PretrainConfig"/>. Tokenizes the corpus into the cache
/// (<see cref="PretrainData"/>), builds the model from a preset, a config file or initial weights (seeded init
/// otherwise), and per optimizer step runs gradient_accumulation_steps micro-batches of per_device_train_batch_size
/// blocks (gradients summed; the loss one mean over every target of the step), clips by global norm (max_grad_norm),
/// and makes one AdamW update (HF Trainer's groups: no decay on biases and norm weights) at the HF scheduler's rate.
/// Validation loss (token-weighted over every validation block, no tape) every eval_steps and at the end. Checkpoints
/// run_dir/checkpoint-N on checkpoint_frequency, checkpoint-0 included (<see cref="PretrainCheckpoint"/>). With
/// resume, continues from the newest checkpoint that verifies, bit-identically to a run never interrupted.
/// Cancellation stops between steps and writes a checkpoint to resume from. A non-finite loss or gradient norm stops
/// the run before the update, naming the last good checkpoint. Gradients and the loss go through
/// <see cref="GradientSync"/> as in finetune, so a data-parallel communicator (issue 10) fits without changing the loop;
/// rank 0 alone writes.
/// </summary>
public sealed class Pretrainer(PretrainConfig config, IOps ops, Action<TrainProgress>? progress = null, Action<string>? log = null,
    double? peakFlops = null, IProgress<TokenizeProgress>? tokenizing = null, ICommunicator? communicator = null)
{
    private readonly ICommunicator _comm = communicator ?? new SingleRankCommunicator();
    private TrainingArguments Args => config.Training;

    public PretrainResult Run(bool resume, CancellationToken cancel = default)
    {
        bool lead = _comm.Rank == 0;
        using var runLock = lead ? RunDirLock.Acquire(config.RunDir) : null;
        var checkpoints = PretrainCheckpoint.Folders(config.RunDir);
        if (lead)
            foreach (var leftover in checkpoints.RemoveLeftovers())
                log?.Invoke($"removed {leftover}: a checkpoint whose writing never finished");

        var tokenizer = TokenizerFiles.Load(config.Model.Tokenizer);
        using var data = PrepareData(tokenizer, lead);
        log?.Invoke($"data: {data.Train.Count} training blocks of {config.Model.SeqLen} tokens" +
                    (data.Validation is { } v ? $", {v.Count} validation blocks" : ", no validation split") +
                    (data.FromCache ? $" (cache {data.Folder})" : $" (tokenized into {data.Folder}: {data.RebuildReason})"));
        if (data.Manifest.BadLines > 0)
            log?.Invoke($"skipped {data.Manifest.BadLines} bad lines: {string.Join("; ", data.Manifest.BadLineExamples)}");

        string? latest = null;
        if (resume)
        {
            latest = checkpoints.LatestValid((path, why) => log?.Invoke($"skipping {Path.GetFileName(path)}: {why}"));
            log?.Invoke(latest is null ? $"no checkpoint in {config.RunDir}: starting from step 0" : $"resuming from {latest}");
        }

        var modelConfig = PretrainModel.Config(config);
        PretrainModel.Check(config, modelConfig, tokenizer);
        var host = PretrainModel.InitialTensors(config, modelConfig, latest);
        // The model's weights in the activation dtype; the fp32 masters from the fp32 host tensors themselves (exact in bf16 too).
        using var weights = ModelWeights.FromHost(ops, modelConfig, host.Values, ops.ActivationDType);
        using var model = ModelFamilies.Create(ops, weights);
        using var lm = TrainingModel.Full(ops, model, weights, name => host[name]);
        lm.Recompute = config.Model.GradientCheckpointing;
        using var optimizer = DataParallelOptimizer.Create(Args.ZeroStage, ops, _comm, lm.Parameters,
            owned => new AdamW(ops, owned, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon, Args.WeightDecay));
        if (_comm.WorldSize > 1 || Args.ZeroStage > 0) log?.Invoke(DataParallelOptimizer.Describe(optimizer, _comm.Rank, _comm.WorldSize));
        var schedule = Args.Schedule();
        var sync = new GradientSync(_comm, lm.Parameters);
        double flopsPerToken = TrainingFlops.PerToken(modelConfig, config.Model.SeqLen - 1);

        int blocksPerStep = Args.EffectiveBatchSize;
        var state = new PretrainState(0, default, 0, config.Seed, data.Train.Count, _comm.WorldSize);
        var trainerState = new HfTrainerState(Args.MaxSteps, Args.LoggingSteps, Args.EvalSteps, blocksPerStep,
            Math.Ceiling((double)Args.MaxSteps * blocksPerStep / data.Train.Count));
        if (latest is not null)
        {
            state = PretrainState.Read(latest);
            CheckResumable(state, latest, data.Train.Count);
            trainerState = HfTrainerState.Read(latest);
            optimizer.ReadState(latest, state.Step);
        }
        if (!sync.SameOnEveryRank(state.Step))
            throw new InvalidOperationException($"rank {_comm.Rank} resumed from step {state.Step}, another rank from another step: every rank must see the same run_dir");
        sync.BroadcastParameters();

        int step = state.Step;
        long tokensSeen = state.TokensSeen;
        var loader = new BlockLoader(data.Train.Count, Args.PerDeviceTrainBatchSize, config.Seed, _comm.WorldSize, _comm.Rank, state.DataPosition);
        using var metrics = lead ? new MetricsLog(config.RunDir, startStep: step) : null;
        string? lastCheckpoint = latest;
        double Epoch() => (double)tokensSeen / ((long)data.Train.Count * config.Model.SeqLen);

        string Save()
        {
            if (!lead)
            {
                CheckpointHandshake.Follower(_comm, optimizer, checkpoints.TempPathOf(step));
                return checkpoints.PathOf(step);
            }
            trainerState.GlobalStep = step;
            trainerState.Epoch = Epoch();
            trainerState.NumInputTokensSeen = tokensSeen;
            trainerState.TotalFlos = flopsPerToken * tokensSeen;
            trainerState.Saved(step, checkpoints.PathOf(step));
            var saved = new PretrainState(step, loader.Position, tokensSeen, config.Seed, data.Train.Count, _comm.WorldSize);
            var path = checkpoints.Write(step, folder => WriteCheckpointFiles(folder, lm, optimizer, modelConfig, saved, trainerState),
                beforeCommit: CheckpointHandshake.Leader(_comm));
            log?.Invoke($"saved {path}");
            return path;
        }

        double? lastEval = null;
        double Evaluate()
        {
            var watch = Stopwatch.StartNew();
            var (loss, tokens) = EvalLoss(lm, data.Validation!);
            double rate = tokens / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
            trainerState.LogEval(step, Epoch(), loss, watch.Elapsed.TotalSeconds, rate);
            metrics?.Eval(step, loss, rate);
            lastEval = loss;
            return loss;
        }
        bool canEvaluate = lead && data.Validation is { Count: > 0 };

        if (config.RunTraining && step == 0 && config.Checkpoints.ShouldSave(0, Args.MaxSteps) && latest is null)
            lastCheckpoint = Save(); // checkpoint-0: the initial weights, before the first step

        var clock = Stopwatch.StartNew();
        long tokensThisRun = 0;
        int startStep = step;
        double loss = double.NaN;
        while (config.RunTraining && step < Args.MaxSteps && !sync.AnyRank(cancel.IsCancellationRequested))
        {
            lm.ZeroGrads();
            var micro = Enumerable.Range(0, Args.GradientAccumulationSteps).Select(_ => data.Train.Batch(loader.Next())).ToList();
            // Every block contributes seq_len − 1 targets, so the step's denominator is known without a collective.
            double denominator = (double)blocksPerStep * (config.Model.SeqLen - 1);
            double sum = 0;
            foreach (var batch in micro) sum += lm.ForwardBackward(batch, denominator);
            optimizer.ReduceGradients();
            loss = sync.Sum(sum) / denominator;
            double norm = optimizer.GradientNorm();
            double lr = schedule.At(step);
            if (sync.AnyRank(!(double.IsFinite(loss) && double.IsFinite(norm))))
                throw new TrainingStoppedException(
                    $"step {step + 1}: the {(double.IsFinite(loss) ? "gradient norm" : "loss")} is not finite (loss {loss}, gradient norm {norm}); " +
                    $"stopped before updating the weights. Last good checkpoint: {lastCheckpoint ?? "none"}. " +
                    "Resume from it (--resume) with a lower training_arguments.learning_rate or max_grad_norm");
            lm.Update(optimizer, lr, GradientClipping.Scale(norm, Args.MaxGradNorm > 0 ? Args.MaxGradNorm : null));
            step++;

            long tokens = (long)blocksPerStep * (config.Model.SeqLen - 1);
            tokensSeen += (long)blocksPerStep * config.Model.SeqLen;
            tokensThisRun += tokens;
            double seconds = clock.Elapsed.TotalSeconds;
            double tokensPerSecond = tokensThisRun / Math.Max(seconds, 1e-9);
            double? mfu = TrainingFlops.Mfu(tokensPerSecond, flopsPerToken, peakFlops);
            long? deviceBytes = ops.OnDevice?.Device.LiveBytes;
            var eta = TimeSpan.FromSeconds(seconds / (step - startStep) * (Args.MaxSteps - step));
            if (step % Args.LoggingSteps == 0 || step == Args.MaxSteps)
            {
                metrics?.Train(step, loss, lr, norm, tokensSeen, tokensPerSecond, seconds, mfu, deviceBytes);
                trainerState.LogTrain(step, Epoch(), loss, lr, norm);
            }
            double? evalLoss = null;
            bool last = step == Args.MaxSteps;
            if (canEvaluate && (step % Args.EvalSteps == 0 || (last && config.RunFinalEval))) evalLoss = Evaluate();
            progress?.Invoke(new TrainProgress(step, Args.MaxSteps, loss, lr, norm, tokensPerSecond, eta, evalLoss, mfu, deviceBytes));
            if (config.Checkpoints.ShouldSave(step, Args.MaxSteps)) lastCheckpoint = Save();
        }

        double throughput = tokensThisRun / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        if (config.RunTraining && step < Args.MaxSteps)
        {
            // Interrupted: keep the steps done since the last scheduled checkpoint, so --resume continues from here.
            if (step > startStep && !config.Checkpoints.ShouldSave(step, Args.MaxSteps)) lastCheckpoint = Save();
            log?.Invoke($"stopped after step {step}; continue with: mistral-cu train {config.SourceFiles[^1]} --resume");
            return new PretrainResult(step, Args.MaxSteps, loss, lastEval, throughput, lastCheckpoint);
        }
        if (!config.RunTraining && config.RunFinalEval && canEvaluate) Evaluate();
        else if (!canEvaluate && config.RunFinalEval) log?.Invoke("no validation blocks: the final evaluation was skipped (set dataset.validation_ratio or validation_files)");
        return new PretrainResult(step, Args.MaxSteps, loss, lastEval, throughput, lastCheckpoint);
    }

    /// <summary>
    /// Rank 0 tokenizes (or finds the cache) first; the others wait at a barrier, then open the cache it wrote, so no two
    /// ranks write the same cache files. A corpus that takes longer than the collective timeout to tokenize wants
    /// `mistral-cu tokenize` beforehand or a longer --collective-timeout.
    /// </summary>
    private PretrainData PrepareData(ITokenizer tokenizer, bool lead)
    {
        var options = PretrainDataOptions.From(config);
        if (_comm.WorldSize == 1) return PretrainData.Prepare(options, tokenizer, tokenizing);
        var data = lead ? PretrainData.Prepare(options, tokenizer, tokenizing) : null;
        _comm.Barrier();
        return data ?? PretrainData.Prepare(options, tokenizer);
    }

    private void WriteCheckpointFiles(string folder, TrainingModel lm, IDataParallelOptimizer optimizer, IModelConfig modelConfig, PretrainState state, HfTrainerState trainerState)
    {
        var trained = lm.Export(lm.Parameters).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var tied = ModelFamilies.Of(modelConfig).Schema(modelConfig).Tied;
        HfModelWriter.Write(folder, modelConfig, name => trained[tied.GetValueOrDefault(name, name)].WithName(name), DType.F32, config.Model.Tokenizer);
        optimizer.WriteState(folder); // this rank's part; the step is training_state.json's (and trainer_state.json's global_step)
        trainerState.Write(folder);
        state.Write(folder);
        File.WriteAllText(Path.Combine(folder, PretrainCheckpoint.ConfigFile), config.EffectiveYaml);
    }

    /// <summary>The checkpoint's counters against this run's data and settings: a changed corpus, seed or world size is another run.</summary>
    private void CheckResumable(PretrainState state, string checkpoint, int blocks)
    {
        var path = Path.Combine(checkpoint, PretrainState.FileName);
        if (PretrainCheckpoint.Folders(config.RunDir).PathOf(state.Step) != checkpoint)
            throw new CheckpointFormatException(path, $"global_step {state.Step} does not match the folder name");
        if (state.Step > Args.MaxSteps)
            throw new CheckpointFormatException(path, $"global_step {state.Step} is past training_arguments.max_steps {Args.MaxSteps}");
        if (state.Seed != config.Seed || state.BlockCount != blocks)
            throw new CheckpointFormatException(path,
                $"written for seed {state.Seed} and {state.BlockCount} training blocks; this run has seed {config.Seed} and {blocks} blocks: resume with the same data and settings");
        // The data position is the whole world's place in one block stream, so another world size continues it where
        // the ranks can stop together (always, when effective_bsz is unchanged); the optimizer state re-shards.
        if (((long)state.DataPosition.Epoch * blocks + state.DataPosition.Window) % _comm.WorldSize != 0)
            throw new CheckpointFormatException(path,
                $"data position {state.DataPosition} (written by {state.WorldSize} ranks) cannot be shared by {_comm.WorldSize} ranks: resume with training_arguments.effective_bsz as it was");
    }

    /// <summary>Token-weighted mean loss over every validation block (Σ CE / Σ targets), no tape; and the tokens run.</summary>
    private (double Loss, long Tokens) EvalLoss(TrainingModel lm, TokenBlocks validation)
    {
        double sum = 0, weights = 0;
        long tokens = 0;
        foreach (var chunk in Enumerable.Range(0, validation.Count).Chunk(Args.PerDeviceTrainBatchSize))
        {
            var batch = validation.Batch(chunk);
            sum += lm.LossSum(batch);
            weights += batch.WeightSum;
            tokens += batch.TokenCount;
        }
        return (weights > 0 ? sum / weights : double.NaN, tokens);
    }
}
