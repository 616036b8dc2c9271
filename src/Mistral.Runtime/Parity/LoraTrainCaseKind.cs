using System.Text.Json;
using static Mistral.Runtime.Parity.TrainCaseFields;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "lora_train": LoRA training from the case's init adapters on its batch (each row its own sequence), fp32
/// weights. Compares the step-0 loss and per-token CE, every gradient, the loss before each AdamW step and after the
/// last, every trained tensor after the last step, and the merged layer-0 wq, each against its own tolerance from
/// suggested_tolerance (loss_abs, grad_abs, final_weights_abs). The reported diff is the category closest to (or
/// furthest past) its tolerance. A device whose ops do not support training yet reports SKIP with the missing op.
/// </summary>
public sealed class LoraTrainCaseKind : IParityCaseKind
{
    public string Kind => "lora_train";

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
        var lora = c.Required("lora");
        var optim = c.Required("optimizer");
        var tol = c.Required("suggested_tolerance");
        int rank = Int(c, lora, "rank");
        float scaling = (float)Number(c, lora, "scaling");
        var targets = lora.GetProperty("targets").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var (lossTol, gradTol, weightTol) = (Number(c, tol, "loss_abs"), Number(c, tol, "grad_abs"), Number(c, tol, "final_weights_abs"));
        var ops = context.Ops;

        using var model = ModelDirectory.Open(context.ModelDir);
        using var weights = ModelWeights.Load(model, ops, DType.F32);
        var config = new LoraConfig(rank, 0, scaling, targets, File(c, context, "init.safetensors"), TrainNorms: true);
        using var baseModel = ModelFamilies.Create(ops, weights);
        using var adapters = LoraAdapters.Create(ops, baseModel, config, Xoshiro256StarStar.ForStream(0, 0));
        using var lm = TrainingModel.Lora(ops, baseModel, adapters, trainNorms: true, 0, Xoshiro256StarStar.ForStream(0, 0));
        var batch = ReadBatch(File(c, context, "batch.safetensors"));

        var step0 = SafeTensorsFile.ReadAll(File(c, context, "step0.safetensors"));
        var ce = new float[batch.TokenCount];
        lm.ZeroGrads();
        double loss0 = lm.ForwardBackward(batch, batch.WeightSum, ce) / batch.WeightSum;
        var lossDiff = new WorstDiff();
        lossDiff.Add("step0.loss", step0["loss"].ToFloat32(), [(float)loss0]);
        lossDiff.Add("step0.per_token_ce", step0["per_token_ce"].ToFloat32(), ce);

        var gradDiff = new WorstDiff();
        var grads = SafeTensorsFile.ReadAll(File(c, context, "grads.safetensors"));
        foreach (var p in lm.Parameters)
            gradDiff.Add("grad " + p.Name, Reference(grads, p.Name, c), Download(ops, p.Grad));

        using var adam = new AdamW(ops, lm.Parameters, Number(c, optim, "betas", 0), Number(c, optim, "betas", 1), Number(c, optim, "eps"), Number(c, optim, "weight_decay"));
        int steps = Int(c, optim, "steps");
        var losses = new float[steps + 1];
        for (int s = 0; s < steps; s++)
        {
            if (s > 0)
            {
                lm.ZeroGrads();
                losses[s] = (float)(lm.ForwardBackward(batch, batch.WeightSum) / batch.WeightSum);
            }
            else losses[0] = (float)loss0;
            adam.Update(Number(c, optim, "lr"));
        }
        losses[steps] = (float)(lm.LossSum(batch) / batch.WeightSum);
        lossDiff.Add("losses", SafeTensorsFile.ReadAll(File(c, context, "losses.safetensors"))["losses"].ToFloat32(), losses);

        var weightDiff = new WorstDiff();
        var final = SafeTensorsFile.ReadAll(File(c, context, "final.safetensors"));
        foreach (var p in lm.Parameters)
            weightDiff.Add("final " + p.Name, Reference(final, p.Name, c), Download(ops, p.Value));
        var mergedRef = SafeTensorsFile.ReadAll(File(c, context, "merged.safetensors"));
        var trained = lm.Export(lm.Parameters).ToDictionary(t => t.Name, StringComparer.Ordinal);
        // The fixture stores the merged weight of the first adapted projection (layers.0.attention.wq).
        string mergedName = adapters.All[0].Module + ".weight";
        var merged = LoraMerge.MergedWeights(model, trained, scaling, c.IndexPath)[mergedName];
        weightDiff.Add("merged " + adapters.All[0].Module, Reference(mergedRef, mergedName, c), merged);

        return Judge(c, ("loss", lossDiff, lossTol), ("grad", gradDiff, gradTol), ("weights", weightDiff, weightTol));
    }

    private static TrainBatch ReadBatch(string path)
    {
        var b = SafeTensorsFile.ReadAll(path);
        foreach (var name in new[] { "input_ids", "target_ids", "target_weight" })
            if (!b.ContainsKey(name)) throw new ParityFormatException(path, $"tensor '{name}' not found");
        var inputs = b["input_ids"];
        if (inputs.Shape.Rank != 2) throw new ParityFormatException(path, $"input_ids {inputs.Shape} must be [rows, tokens]");
        return new TrainBatch(inputs.ToInt32(), b["target_ids"].ToInt32(), b["target_weight"].ToFloat32(),
            AttentionBatch.FromLengths(Enumerable.Repeat(inputs.Shape[1], inputs.Shape[0]).ToArray()));
    }
}
