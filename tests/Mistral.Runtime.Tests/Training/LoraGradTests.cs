using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// The whole-model LoRA gradient (tape through every block, GQA, a window smaller than the sequences, packed documents,
/// masked targets) against central finite differences of the loss, one random direction per trainable tensor.
/// </summary>
public sealed class LoraGradTests
{
    // A unit step of 1e-2 along a random direction. The fp32 loss (~4) carries rounding of a few 1e-6, which the
    // quotient divides by 2·eps = 2e-2, and the truncation error (eps² · third derivative / 6) measured up to 1.5e-4
    // on this model (it shrinks 10x at eps 3e-3). Derivatives here are 2e-2..1.3e-1, so a missing or wrong term is far
    // outside 3e-4 + 1%; the fixture test pins every gradient to 1e-5 on top of this.
    private const float Eps = 1e-2f;
    private const double AbsTolerance = 3e-4, RelTolerance = 1e-2;

    [Fact]
    public void WholeModelGradient_EveryTrainableTensor_MatchesFiniteDifferences()
    {
        using var dir = new RandomModelDirectory();
        using var ops = new CpuOps();
        using var model = ModelDirectory.Open(dir.Path);
        using var weights = ModelWeights.Load(model, ops, DType.F32);
        var loraConfig = new LoraConfig(dir.Rank, 0, 1.5, LoraConfig.AllTargets, dir.InitFile, TrainNorms: true);
        using var baseModel = ModelFamilies.Create(ops, weights);
        using var adapters = LoraAdapters.Create(ops, baseModel, loraConfig, Xoshiro256StarStar.ForStream(1, 0));
        using var lm = TrainingModel.Lora(ops, baseModel, adapters, trainNorms: true, 0, Xoshiro256StarStar.ForStream(1, 0));

        // Three documents packed as sequences of 7, 3 and 9 tokens (window 5 binds), a third of the targets masked.
        var rnd = new CaseRandom(11);
        int[] lengths = [7, 3, 9];
        int T = lengths.Sum();
        var weightsOfTargets = rnd.Uniform(T, 0, 1).Select(u => u < 0.33f ? 0f : 1f).ToArray();
        var batch = new TrainBatch(rnd.Ints(T, dir.Config.VocabSize), rnd.Ints(T, dir.Config.VocabSize), weightsOfTargets,
            AttentionBatch.FromLengths(lengths));
        double denominator = batch.WeightSum;

        lm.ZeroGrads();
        lm.ForwardBackward(batch, denominator);

        var failures = new List<string>();
        foreach (var p in lm.Parameters)
        {
            var value = ops.DownloadFloats(p.Value);
            var grad = ops.DownloadFloats(p.Grad);
            var direction = rnd.Normal(value.Length);
            float norm = MathF.Sqrt(direction.Sum(d => d * d));
            for (int i = 0; i < direction.Length; i++) direction[i] /= norm; // a unit step, whatever the tensor's size
            double analytic = grad.Zip(direction).Sum(g => (double)g.First * g.Second);
            double Loss(float sign)
            {
                var shifted = value.Zip(direction, (v, d) => v + sign * Eps * d).ToArray();
                Set(ops, p.Value, shifted);
                return lm.LossSum(batch) / denominator;
            }
            double numeric = (Loss(+1) - Loss(-1)) / (2 * Eps);
            Set(ops, p.Value, value);
            if (Math.Abs(numeric - analytic) > AbsTolerance + RelTolerance * Math.Abs(numeric))
                failures.Add($"{p.Name}: analytic {analytic:G6}, numeric {numeric:G6}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(2 * 7 * 2 + 5, lm.Parameters.Count);
    }


    private static void Set(IOps ops, Tensor t, float[] values)
    {
        using var up = ops.Upload(values, t.Shape, DType.F32);
        ops.Copy(up, t);
    }
}
