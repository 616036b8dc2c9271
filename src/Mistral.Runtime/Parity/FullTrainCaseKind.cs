using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Data;
using static Mistral.Runtime.Parity.TrainCaseFields;

namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "full_train": full-parameter training of a GPT-2 fixture from its hf/ weights (fp32), as Hugging Face Trainer
/// does it (CONVENTIONS.md "Training loss", "One optimizer step"). Compares the step-0 loss and per-token CE and every
/// gradient (wte: embedding and tied head together); then, over the case's steps on the same batch, each step's
/// accumulated loss (micro-batches of equal rows, each mean CE / G), gradient norm (every entry once, fp64), clip
/// coefficient and learning rate (the HF linear warm-up schedule); the final weights; the loss after the last step and
/// the validation loss before and after. The reference tensors use Hugging Face names and the Conv1D layout: they are
/// read through the loader that reads HF checkpoints (<see cref="Gpt2Checkpoint"/>, c_attn split), so they compare
/// under the engine's names. Each category is judged against its suggested tolerance.
/// </summary>
public sealed class FullTrainCaseKind : IParityCaseKind
{
    public string Kind => "full_train";

    public ParityCaseResult Run(ParityCase c, ParityContext context)
    {
        try
        {
            return Train(c, context);
        }
        catch (NotSupportedException e)
        {
            return ParityCaseResult.Skip(c, e.Message); // a device without training kernels yet: say so, do not fail
        }
    }

    private static ParityCaseResult Train(ParityCase c, ParityContext context)
    {
        var optim = c.Required("optimizer");
        var schedule = c.Required("schedule");
        var tol = c.Required("suggested_tolerance");
        int steps = c.Required("steps").GetInt32();
        int microBatches = Int(c, c.Required("batch"), "micro_batches");
        double maxNorm = Number(c, c.Required("clipping"), "max_norm");
        var ops = context.Ops;

        using var model = ModelDirectory.Open(context.ModelDir);
        if (model.Config is not Gpt2Config config) throw c.Error($"full_train compares GPT-2 tensors; the fixture's model is '{model.Config.Family}'");
        using var weights = ModelWeights.Load(model, ops, DType.F32);
        using var baseModel = ModelFamilies.Create(ops, weights);
        using var lm = TrainingModel.Full(ops, baseModel, weights);

        var (tokens, rows, length) = Rows(SafeTensorsFile.ReadAll(File(c, context, "batch.safetensors")), c);
        var batch = TrainBatch.FromRows(tokens, rows, length);
        if (rows % microBatches != 0) throw c.Error($"{rows} rows do not split into {microBatches} equal micro-batches");
        int perMicro = rows / microBatches;
        var micro = Enumerable.Range(0, microBatches)
            .Select(m => TrainBatch.FromRows(tokens.AsSpan(m * perMicro * length, perMicro * length), perMicro, length)).ToList();
        var evalFile = SafeTensorsFile.ReadAll(File(c, context, "eval.safetensors"));
        var (evalTokens, evalRows, evalLength) = Rows(evalFile, c);
        var evalBatch = TrainBatch.FromRows(evalTokens, evalRows, evalLength);
        var loss = new WorstDiff();
        var perToken = new WorstDiff();

        var evalCe = new float[evalBatch.TokenCount];
        float evalBefore = (float)(lm.LossSum(evalBatch, evalCe) / evalBatch.WeightSum);
        loss.Add("eval.loss_before", Reference(evalFile, "loss_before", c), [evalBefore]);
        perToken.Add("eval.per_token_ce_before", Reference(evalFile, "per_token_ce_before", c), evalCe);

        var step0 = SafeTensorsFile.ReadAll(File(c, context, "step0.safetensors"));
        var ce = new float[batch.TokenCount];
        lm.ZeroGrads();
        double loss0 = lm.ForwardBackward(batch, batch.WeightSum, ce) / batch.WeightSum;
        loss.Add("step0.loss", Reference(step0, "loss", c), [(float)loss0]);
        perToken.Add("step0.per_token_ce", Reference(step0, "per_token_ce", c), ce);
        var grads = new WorstDiff();
        using (var reference = HfTensors(File(c, context, "grads.safetensors"), config))
            foreach (var p in lm.Parameters)
                grads.Add("grad " + p.Name, reference.Read(p.Name).ToFloat32(), Download(ops, p.Grad));

        var lrs = LrSchedule.HuggingFace("linear", Number(c, optim, "lr"), Int(c, schedule, "num_training_steps"), Int(c, schedule, "num_warmup_steps"));
        using var adam = new AdamW(ops, lm.Parameters, Number(c, optim, "betas", 0), Number(c, optim, "betas", 1), Number(c, optim, "eps"), Number(c, optim, "weight_decay"));
        var (stepLoss, stepNorm, stepCoef, stepLr) = (new float[steps], new float[steps], new float[steps], new float[steps]);
        for (int s = 0; s < steps; s++)
        {
            lm.ZeroGrads();
            double sum = 0;
            foreach (var m in micro) sum += lm.ForwardBackward(m, m.WeightSum * micro.Count) / (m.WeightSum * micro.Count);
            double norm = GradientClipping.GlobalNorm(ops, lm.Parameters);
            float coef = GradientClipping.Scale(norm, maxNorm);
            double lr = lrs.At(s);
            lm.Update(adam, lr, coef);
            (stepLoss[s], stepNorm[s], stepCoef[s], stepLr[s]) = ((float)sum, (float)norm, coef, (float)lr);
        }

        var stepsFile = SafeTensorsFile.ReadAll(File(c, context, "steps.safetensors"));
        loss.Add("steps.loss", Reference(stepsFile, "loss", c), stepLoss);
        loss.Add("steps.loss_after", Reference(stepsFile, "loss_after", c), [(float)(lm.LossSum(batch) / batch.WeightSum)]);
        var norms = new WorstDiff();
        norms.AddRelative("steps.grad_norm", Reference(stepsFile, "grad_norm", c), stepNorm);
        var coefs = new WorstDiff();
        coefs.Add("steps.clip_coef", Reference(stepsFile, "clip_coef", c), stepCoef);
        var rates = new WorstDiff();
        rates.AddRelative("steps.lr", Reference(stepsFile, "lr", c), stepLr);

        float evalAfter = (float)(lm.LossSum(evalBatch, evalCe) / evalBatch.WeightSum);
        loss.Add("eval.loss_after", Reference(evalFile, "loss_after", c), [evalAfter]);
        perToken.Add("eval.per_token_ce_after", Reference(evalFile, "per_token_ce_after", c), evalCe);

        var final = new WorstDiff();
        using (var reference = HfTensors(File(c, context, "final.safetensors"), config))
            foreach (var p in lm.Parameters)
                final.Add("final " + p.Name, reference.Read(p.Name).ToFloat32(), Download(ops, p.Value));

        return Judge(c,
            ("loss", loss, Number(c, tol, "loss_abs")),
            ("per-token", perToken, Number(c, tol, "per_token_ce_abs")),
            ("grad", grads, Number(c, tol, "grad_abs")),
            ("grad_norm rel", norms, Number(c, tol, "grad_norm_rel")),
            ("clip_coef", coefs, Number(c, tol, "clip_coef_abs")),
            ("lr rel", rates, Number(c, tol, "lr_rel")),
            ("weights", final, Number(c, tol, "final_weights_abs")));
    }

    /// <summary>A safetensors file of every parameter under HF names in the Conv1D layout, read as the engine names them.</summary>
    private static Gpt2SplitCheckpoint HfTensors(string path, Gpt2Config config) => new(Gpt2Checkpoint.OpenSafeTensors(path, config));

    /// <summary>The file's tokens [rows, length]: each row one sequence (<see cref="TrainBatch.FromRows"/>).</summary>
    private static (int[] Tokens, int Rows, int Length) Rows(IReadOnlyDictionary<string, HostTensor> file, ParityCase c)
    {
        if (!file.TryGetValue("tokens", out var t)) throw c.Error("tensor 'tokens' not found");
        if (t.Shape.Rank != 2 || t.Shape[1] < 2) throw c.Error($"tensor 'tokens' {t.Shape} must be [rows, tokens ≥ 2]");
        return (t.ToInt32(), t.Shape[0], t.Shape[1]);
    }
}
