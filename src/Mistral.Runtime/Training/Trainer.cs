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

namespace Mistral.Runtime.Training;

/// <summary>
/// LoRA fine-tuning from a <see cref="TrainConfig"/>: load model, tokenizer and data; per step run num_microbatches
/// micro-batches forward and backward (gradients summed, the loss one mean over every unmasked target of the step),
/// clip by global norm, one AdamW update at the schedule's rate; log, evaluate and checkpoint on their frequencies;
/// at the end write run_dir/merged in the input model's layout. With resume, continues from the latest checkpoint and
/// produces bit-identical weights to a run that was never interrupted. Cancellation stops between steps (no merge).
/// Data-parallel with a <paramref name="communicator"/> of N ranks: each rank runs its slice of every step's
/// micro-batches (<see cref="TrainDataLoader.NextStep"/>), gradients and the loss are summed across ranks
/// (<see cref="GradientSync"/>), so every rank clips, logs and updates identically; rank 0 alone writes metrics,
/// checkpoints (made visible after a barrier) and the merged model.
/// </summary>
public sealed class Trainer(TrainConfig config, IOps ops, Action<TrainProgress>? progress = null, Action<string>? log = null,
    ICommunicator? communicator = null)
{
    private readonly ICommunicator _comm = communicator ?? new SingleRankCommunicator();

    private const ulong LoraInitStream = 0x4C4F_5241, DropoutStream = 0x4452_4F50;

    public TrainResult Run(bool resume, CancellationToken cancel = default)
    {
        bool lead = _comm.Rank == 0;
        if (_comm.WorldSize > 1 && config.Lora.Dropout > 0)
            throw new TrainConfigException(config.SourceFile, "lora.dropout",
                $"dropout masks come from one sequential random stream, so {_comm.WorldSize} ranks cannot reproduce it yet; set lora.dropout: 0 to train on several ranks");
        using var model = ModelDirectory.Open(config.InitialModelPath);
        var tokenizer = model.TokenizerPath is { } tp
            ? TokenizerFiles.Load(tp)
            : throw new CheckpointFormatException(model.DirectoryPath, "no tokenizer.model or tokenizer.json: training needs the model's tokenizer");
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new CheckpointFormatException(model.DirectoryPath, $"the tokenizer has {tokenizer.VocabSize} ids, the model only {model.Config.VocabSize} embeddings");

        var data = TrainingData.Load(config.Data, tokenizer, config.Seed);
        foreach (var bad in data.BadLines.Take(JsonlDataset.BadLinesShown)) log?.Invoke($"skipped bad line {bad}");
        if (data.BadLines.Count > JsonlDataset.BadLinesShown) log?.Invoke($"skipped {data.BadLines.Count} bad lines in all");
        bool evaluate = lead && !config.NoEval && data.Eval.Count > 0; // the other ranks wait at the next step's collectives
        if (config.Recompute) log?.Invoke("note: recompute is not implemented yet; every activation is kept for the backward pass");
        log?.Invoke($"{data.Train.Count} training documents ({data.Train.Sum(d => d.Tokens.Length)} tokens), {data.Eval.Count} eval documents");

        // Frozen base weights in the ops' activation dtype (the device ops take one dtype per call); the precision
        // itself is chosen when the ops are created (config.precision / --precision).
        using var weights = ModelWeights.Load(model, ops, ops.ActivationDType);
        using var baseModel = ModelFamilies.Create(ops, weights);
        using var adapters = LoraAdapters.Create(ops, baseModel, config.Lora, Xoshiro256StarStar.ForStream(config.Seed, LoraInitStream));
        var dropoutRng = Xoshiro256StarStar.ForStream(config.Seed, DropoutStream);
        using var lm = new LoraTrainingModel(ops, baseModel, adapters, config.Lora.TrainNorms, (float)config.Lora.Dropout, dropoutRng);
        using var adam = new AdamW(ops, lm.Parameters, config.Optim.Beta1, config.Optim.Beta2, config.Optim.Eps, config.Optim.WeightDecay);
        var schedule = LrSchedule.From(config.Optim, config.MaxSteps);
        var sync = new GradientSync(_comm, lm.Parameters);
        if (config.NumMicrobatches % _comm.WorldSize != 0)
            log?.Invoke($"note: {config.NumMicrobatches} micro-batches per step over {_comm.WorldSize} ranks: some ranks run one fewer " +
                        $"(the result is the same; make num_microbatches a multiple of {_comm.WorldSize} to keep every rank busy)");

        int step = 0;
        long tokensSeen = 0;
        var position = default(DataLoaderPosition);
        string? lastCheckpoint = null;
        if (resume && TrainingCheckpoint.Latest(config.RunDir) is { } latest)
        {
            var state = TrainingCheckpoint.ReadState(latest);
            var trained = TrainingCheckpoint.ReadTrained(latest);
            lm.Import(trained, lm.Parameters, latest);
            var optimizerFile = Path.Combine(latest, TrainingCheckpoint.OptimizerFile);
            adam.ImportState(SafeTensorsFile.ReadAll(optimizerFile), state.Step, optimizerFile);
            dropoutRng = Xoshiro256StarStar.FromState(state.DropoutRngState);
            lm.SetDropoutRng(dropoutRng);
            (step, position, tokensSeen, lastCheckpoint) = (state.Step, state.DataPosition, state.TokensSeen, latest);
            log?.Invoke($"resumed from {latest} (step {step})");
        }
        else if (resume)
        {
            log?.Invoke($"no checkpoint in {TrainingCheckpoint.Folder(config.RunDir)}: starting from step 0");
        }

        if (!sync.SameOnEveryRank(step))
            throw new InvalidOperationException($"rank {_comm.Rank} resumed from step {step}, another rank from another step: " +
                                                $"every rank must see the same {TrainingCheckpoint.Folder(config.RunDir)} (a shared filesystem)");
        sync.BroadcastParameters();

        Directory.CreateDirectory(config.RunDir);
        using var metrics = lead ? new MetricsLog(config.RunDir) : null;
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
            sync.AllReduceGradients();
            sum = sync.Sum(sum);
            loss = denominator > 0 ? sum / denominator : 0;
            double norm = GradientClipping.GlobalNorm(ops, lm.Parameters);
            double lr = schedule.At(step);
            adam.Update(lr, GradientClipping.Scale(norm, config.MaxGradNorm));
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
                _comm.Barrier(); // rank 0 renames step_N.tmp only once every rank has reached step N
                return TrainingCheckpoint.PathOf(config.RunDir, step);
            }
            return TrainingCheckpoint.Write(config.RunDir,
                new TrainingState(step, loader.Position, dropoutRng.State, tokensSeen, config.Lora.Rank, (float)config.Lora.Scaling, model.DirectoryPath),
                lm.Export(lm.Lora.Parameters), lm.Export(lm.Norms), adam.ExportState(), config.EffectiveYaml, config.KeepLastCheckpoints,
                beforeCommit: _comm.Barrier);
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
            LoraMerge.WriteMergedModel(model, LoraMerge.MergedWeights(model, trainedNow, (float)config.Lora.Scaling, config.SourceFile), mergedPath);
            log?.Invoke($"merged model written to {mergedPath}");
        }
        _comm.Barrier();
        return new TrainResult(step, loss, firstEval, lastEval, throughput, lastCheckpoint, mergedPath);
    }

    private List<TrainBatch> EvalBatches(IReadOnlyList<TokenizedDocument> eval) =>
        Packing.Pack(eval, config.SeqLen).Chunk(config.BatchSize).Select(TrainBatch.FromWindows).ToList();

    private static double EvalLoss(LoraTrainingModel lm, List<TrainBatch> batches)
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
