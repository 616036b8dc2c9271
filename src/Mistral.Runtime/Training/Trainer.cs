using System.Diagnostics;
using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Training.Metrics;
using Mistral.Runtime.Training.Policies;

namespace Mistral.Runtime.Training;

/// <summary>
/// Fine-tuning from a <see cref="TrainConfig"/> (LoRA, or every weight with `lora: null`): load model, tokenizer and data; per step run num_microbatches
/// micro-batches forward and backward (gradients summed, the loss one mean over every unmasked target of the step),
/// clip by global norm, one AdamW update at the schedule's rate; log, evaluate and checkpoint on their frequencies;
/// at the end write run_dir/merged in the input model's layout. With resume, continues from the latest checkpoint and
/// produces bit-identical weights to a run that was never interrupted. Cancellation stops between steps (no merge).
/// Data-parallel with a <paramref name="communicator"/> of N ranks: each rank runs its slice of every step's
/// micro-batches (<see cref="TrainDataLoader.NextStep"/>), gradients and the loss are summed across ranks
/// (<see cref="IDataParallelOptimizer"/>, <see cref="GradientSync"/>), so every rank clips, logs and updates identically;
/// with zero_stage 1 each rank keeps AdamW state for its share of the parameters only (<see cref="ShardedOptimizer"/>).
/// Rank 0 alone writes metrics, checkpoints (made visible once every rank has written its part) and the merged model.
/// </summary>
public sealed class Trainer(TrainConfig config, IOps ops, Action<TrainProgress>? progress = null, Action<string>? log = null,
    ICommunicator? communicator = null)
{
    private readonly ICommunicator _comm = communicator ?? new SingleRankCommunicator();

    private const ulong LoraInitStream = 0x4C4F_5241, DropoutStream = 0x4452_4F50;

    /// <param name="allowConfigChange">resume even when the settings that shape the numbers differ from the checkpoint's config.</param>
    public TrainResult Run(bool resume, CancellationToken cancel = default, bool allowConfigChange = false)
    {
        bool lead = _comm.Rank == 0;
        if (_comm.WorldSize > 1 && config.Lora?.Dropout > 0)
            throw new TrainConfigException(config.SourceFile, "lora.dropout",
                $"dropout masks come from one sequential random stream, so {_comm.WorldSize} ranks cannot reproduce it yet; set lora.dropout: 0 to train on several ranks");
        // Before anything is read or written: one run per run_dir. Rank 0 holds the lock for the whole data-parallel
        // run (the other ranks write nothing there); when it is refused, rank 0's error aborts every rank.
        using var runLock = lead ? RunDirLock.Acquire(config.RunDir) : null;
        using var model = ModelDirectory.Open(config.InitialModelPath);
        CheckSizes(model.Config); // before the data is packed into seq_len windows or anything is allocated
        var tokenizer = model.TokenizerPath is { } tp
            ? TokenizerFiles.Load(tp)
            : throw new CheckpointFormatException(model.DirectoryPath, "no tokenizer.model or tokenizer.json: training needs the model's tokenizer");
        LoadedModel.CheckVocabulary(model, tokenizer);

        var data = TrainingData.Load(config.Data, tokenizer, config.Seed);
        foreach (var bad in data.BadLines.Take(JsonlDataset.BadLinesShown)) log?.Invoke($"skipped bad line {bad}");
        if (data.BadLines.Count > JsonlDataset.BadLinesShown) log?.Invoke($"skipped {data.BadLines.Count} bad lines in all");
        bool evaluate = lead && !config.NoEval && data.Eval.Count > 0; // the other ranks wait at the next step's collectives
        log?.Invoke($"{data.Train.Count} training documents ({data.Train.Sum(d => d.Tokens.Length)} tokens), {data.Eval.Count} eval documents");

        // Base weights in the ops' activation dtype (the device ops take one dtype per call); the precision itself is
        // chosen when the ops are created (config.precision / --precision). LoRA keeps them frozen; `lora: null` trains
        // every one of them, from fp32 masters read exactly from the checkpoint (the working copy when fp32).
        using var weights = ModelWeights.Load(model, ops, ops.ActivationDType);
        using var baseModel = ModelFamilies.Create(ops, weights);
        using var adapters = config.Lora is { } loraConfig
            ? LoraAdapters.Create(ops, baseModel, loraConfig, Xoshiro256StarStar.ForStream(config.Seed, LoraInitStream))
            : null;
        var dropoutRng = Xoshiro256StarStar.ForStream(config.Seed, DropoutStream);
        var loraPolicy = adapters is null ? null : new LoraPolicy(ops, baseModel, adapters, config.Lora!.TrainNorms, (float)config.Lora.Dropout, dropoutRng);
        using var lm = new TrainingModel(ops, baseModel, loraPolicy ?? (IParameterPolicy)new FullParameterPolicy(ops, baseModel, weights, model.Read))
        {
            Recompute = config.Recompute,
        };
        using var optimizer = DataParallelOptimizer.Create(config.ZeroStage, ops, _comm, lm.Parameters,
            owned => new AdamW(ops, owned, config.Optim.Beta1, config.Optim.Beta2, config.Optim.Eps, config.Optim.WeightDecay));
        if (_comm.WorldSize > 1 || config.ZeroStage > 0) log?.Invoke(DataParallelOptimizer.Describe(optimizer, _comm.Rank, _comm.WorldSize));
        var schedule = LrSchedule.From(config.Optim, config.MaxSteps);
        var sync = new GradientSync(_comm, lm.Parameters);
        if (config.NumMicrobatches % _comm.WorldSize != 0)
            log?.Invoke($"note: {config.NumMicrobatches} micro-batches per step over {_comm.WorldSize} ranks: some ranks run one fewer " +
                        $"(the result is the same; make num_microbatches a multiple of {_comm.WorldSize} to keep every rank busy)");

        int step = 0;
        long tokensSeen = 0;
        var position = default(DataLoaderPosition);
        string? lastCheckpoint = null;
        var checkpoints = TrainingCheckpoint.Folders(config.RunDir);
        if (lead)
            foreach (var leftover in checkpoints.RemoveLeftovers())
                log?.Invoke($"removed {leftover}: a checkpoint whose writing never finished");
        string? latest = resume ? checkpoints.LatestValid((path, why) => log?.Invoke($"skipping {Path.GetFileName(path)}: {why}")) : null;
        if (latest is not null)
        {
            var state = TrainingCheckpoint.ReadState(latest);
            var saved = CheckConfigUnchanged(latest, allowConfigChange);
            ResumeCheck.State(state, config, saved, latest, new TrainDataLoader(data.Train, saved.SeqLen, saved.BatchSize, saved.Seed).WindowsOf(0).Count);
            var trained = TrainingCheckpoint.ReadTrained(latest);
            lm.Import(trained, lm.Parameters, latest);
            optimizer.ReadState(latest, state.Step);
            dropoutRng = Xoshiro256StarStar.FromState(state.DropoutRngState);
            if (loraPolicy is not null) loraPolicy.DropoutRng = dropoutRng;
            (step, position, tokensSeen, lastCheckpoint) = (state.Step, state.DataPosition, state.TokensSeen, latest);
            log?.Invoke($"resumed from {latest} (step {step})");
        }
        else if (resume)
        {
            log?.Invoke($"no checkpoint in {checkpoints.Root}: starting from step 0");
        }

        if (!sync.SameOnEveryRank(step))
            throw new InvalidOperationException($"rank {_comm.Rank} resumed from step {step}, another rank from another step: " +
                                                $"every rank must see the same {checkpoints.Root} (a shared filesystem)");
        sync.BroadcastParameters();

        Directory.CreateDirectory(config.RunDir);
        using var metrics = lead ? new MetricsLog(config.RunDir, startStep: step) : null;
        var loader = new TrainDataLoader(data.Train, config.SeqLen, config.BatchSize, config.Seed, position);
        var evalBatches = evaluate ? EvalBatches(data.Eval) : [];
        double? firstEval = null, lastEval = null;
        if (evaluate && step == 0)
        {
            firstEval = lastEval = EvalLoss(lm, evalBatches);
            metrics?.Eval(0, lastEval.Value);
            log?.Invoke($"step 0: eval loss {lastEval:F4}");
        }

        var clock = Stopwatch.StartNew();
        long tokensThisRun = 0;
        int startStep = step;
        double loss = double.NaN;
        while (step < config.MaxSteps && !sync.AnyRank(cancel.IsCancellationRequested))
        {
            var batches = loader.NextStep(config.NumMicrobatches, _comm.Rank, _comm.WorldSize);
            double denominator = batches.WeightSum;
            lm.ZeroGrads();
            double sum = 0;
            if (denominator > 0)
                foreach (var batch in batches.Local) sum += lm.ForwardBackward(batch, denominator);
            optimizer.ReduceGradients();
            sum = sync.Sum(sum);
            loss = denominator > 0 ? sum / denominator : 0;
            double norm = optimizer.GradientNorm();
            double lr = schedule.At(step);
            // Loss and norm come from summed gradients, but every rank must take the same branch (a throw on one
            // rank alone would leave the others waiting at the next collective), so the decision itself is agreed.
            bool finite = !sync.AnyRank(!(double.IsFinite(loss) && double.IsFinite(norm)));
            if (!finite && !config.SkipNonFinite)
                throw new TrainingStoppedException(
                    $"step {step + 1}: the {(double.IsFinite(loss) ? "gradient norm" : "loss")} is not finite (loss {loss}, gradient norm {norm}); " +
                    $"stopped before updating the weights. Last good checkpoint: {lastCheckpoint ?? "none"}. " +
                    "Resume from it with a lower optim.lr, or set skip_nonfinite: true to skip such steps");
            if (finite) lm.Update(optimizer, lr, GradientClipping.Scale(norm, config.MaxGradNorm));
            else log?.Invoke($"step {step + 1}: loss {loss}, gradient norm {norm}: not finite, skipped without an update (skip_nonfinite)");
            step++;

            int tokens = batches.TokenCount;
            tokensSeen += tokens;
            tokensThisRun += tokens;
            double seconds = clock.Elapsed.TotalSeconds;
            double tokensPerSecond = tokensThisRun / Math.Max(seconds, 1e-9);
            var eta = TimeSpan.FromSeconds(seconds / (step - startStep) * (config.MaxSteps - step));
            if (step % config.LogFreq == 0 || step == config.MaxSteps)
                metrics?.Train(step, loss, lr, norm, tokensSeen, tokensPerSecond, seconds);

            double? evalLoss = null;
            if (evaluate && (step % config.EvalFreq == 0 || step == config.MaxSteps))
            {
                evalLoss = lastEval = EvalLoss(lm, evalBatches);
                firstEval ??= evalLoss;
                metrics?.Eval(step, evalLoss.Value);
            }
            progress?.Invoke(new TrainProgress(step, config.MaxSteps, loss, lr, norm, tokensPerSecond, eta, evalLoss));

            if (config.Checkpoints.ShouldSave(step, config.MaxSteps)) lastCheckpoint = SaveCheckpoint();
        }

        string SaveCheckpoint()
        {
            if (!lead)
            {
                CheckpointHandshake.Follower(_comm, optimizer, checkpoints.TempPathOf(step));
                return checkpoints.PathOf(step);
            }
            return TrainingCheckpoint.Write(config.RunDir,
                new TrainingState(step, loader.Position, dropoutRng.State, tokensSeen, config.Lora?.Rank ?? 0, (float)(config.Lora?.Scaling ?? 0), model.DirectoryPath),
                lm.Export(adapters?.Parameters ?? []), lm.Export(loraPolicy?.Norms ?? lm.Parameters), optimizer.WriteState, config.EffectiveYaml, config.KeepLastCheckpoints,
                beforeCommit: CheckpointHandshake.Leader(_comm));
        }

        double throughput = tokensThisRun / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        if (step < config.MaxSteps)
        {
            // Interrupted: keep the work done since the last scheduled checkpoint, so --resume continues from here.
            if (step > startStep && !config.Checkpoints.ShouldSave(step, config.MaxSteps)) lastCheckpoint = SaveCheckpoint();
            log?.Invoke($"stopped after step {step}; continue with --resume");
            return new TrainResult(step, loss, firstEval, lastEval, throughput, lastCheckpoint, null);
        }
        var mergedPath = Path.Combine(config.RunDir, "merged");
        if (lead)
        {
            var trainedNow = lm.Export(lm.Parameters).ToDictionary(t => t.Name, StringComparer.Ordinal);
            LoraMerge.WriteMergedModel(model, LoraMerge.MergedWeights(model, trainedNow, (float)(config.Lora?.Scaling ?? 0), config.SourceFile), mergedPath);
            log?.Invoke($"merged model written to {mergedPath}");
        }
        _comm.Barrier();
        return new TrainResult(step, loss, firstEval, lastEval, throughput, lastCheckpoint, mergedPath);
    }

    /// <summary>
    /// Sizes that come from the YAML, checked against the model and the memory before anything is allocated: a LoRA
    /// rank above the model's width adds nothing, a seq_len past a stated context was never trained, and the weights,
    /// adapters with their gradients and AdamW moments, and one micro-batch's activations and logits must fit.
    /// </summary>
    private void CheckSizes(IModelConfig m)
    {
        if (config.Lora?.Rank > m.Width)
            throw new TrainConfigException(config.SourceFile, "lora.rank", $"{config.Lora.Rank} is larger than the model's width {m.Width}: a rank above the smaller side of an adapted matrix adds nothing");
        if (m.ContextLength is int context && config.SeqLen > context)
            throw new TrainConfigException(config.SourceFile, "seq_len", $"{config.SeqLen} is longer than the model's context of {context}");
        double element = ops.ActivationDType.SizeOf();
        // Upper bounds that hold for every family: each projection of a block (q, k, v, o, up, gate, down) adapted.
        double perLayerAdapterWidth = 2.0 * m.Width + m.Heads * m.HeadDim + 2.0 * m.KvHeads * m.HeadDim + 3.0 * m.FeedForwardWidth + 3.0 * m.Width + 2.0 * m.FeedForwardWidth;
        double trained = config.Lora is { } lora
            ? 4.0 * sizeof(float) * lora.Rank * perLayerAdapterWidth * m.LayerCount   // A and B: value, gradient, m, v
            : 4.0 * sizeof(float) * m.ParameterCount;                                   // every weight: fp32 master, gradient, m, v
        double tokens = (double)config.BatchSize * config.SeqLen;
        double perBlock = 6.0 * m.Width + 2.0 * m.Heads * m.HeadDim + 2.0 * m.KvHeads * m.HeadDim + 3.0 * m.FeedForwardWidth;
        double blocks = config.Recompute ? m.LayerCount * m.Width + perBlock : m.LayerCount * perBlock; // recompute: each block's output, one block at a time
        double activations = tokens * blocks * element + tokens * m.VocabSize * 2 * sizeof(float);       // logits and their gradient
        double weights = (double)m.ParameterCount * element;
        Devices.MemoryBudget.Require(ops,
            $"training with {(config.Lora is { } l ? $"lora.rank {l.Rank}" : "every weight (lora: null)")}, seq_len {config.SeqLen} and batch_size {config.BatchSize} " +
            $"(weights, {(config.Lora is null ? "their fp32 masters, gradients" : "adapters")} with AdamW state, one micro-batch's activations)",
            weights + trained + activations);
    }

    /// <summary>Refuses to resume with settings that change the numbers, naming each, unless allowed (then says them).</summary>
    private TrainConfig CheckConfigUnchanged(string checkpoint, bool allowed)
    {
        var savedPath = Path.Combine(checkpoint, TrainingCheckpoint.ConfigFile);
        var saved = TrainConfigLoader.Parse(File.ReadAllText(savedPath), config.SourceFile);
        var changes = ResumeCheck.ConfigChanges(saved, config);
        if (changes.Count == 0) return saved;
        if (!allowed)
            throw new CheckpointFormatException(savedPath, $"the run was started with other settings: {string.Join(", ", changes)}; resume with the same settings, or pass --allow-config-change");
        log?.Invoke($"resuming with changed settings: {string.Join(", ", changes)}");
        return saved;
    }

    private List<TrainBatch> EvalBatches(IReadOnlyList<TokenizedDocument> eval) =>
        Packing.Pack(eval, config.SeqLen).Chunk(config.BatchSize).Select(TrainBatch.FromWindows).ToList();

    private static double EvalLoss(TrainingModel lm, List<TrainBatch> batches)
    {
        double sum = 0, weights = 0;
        foreach (var b in batches)
        {
            sum += lm.LossSum(b);
            weights += b.WeightSum;
        }
        return weights > 0 ? sum / weights : double.NaN;
    }
}
