using System.Text.Json;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Data;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// Full-parameter training (TrainingModel with FullParameterPolicy) on the fixtures: Hugging Face Trainer's two
/// weight-decay groups, the tied embedding as one parameter in the gradient norm, fp32 on the emulated device equal to
/// the CPU, and bf16 mixed precision (fp32 masters, bf16 working weights) training on the emulated device.
/// </summary>
public sealed class FullParameterTrainingTests
{
    [Fact]
    public void Parameters_Gpt2_DecayExactlyTheFixturesHfGroup()
    {
        using var run = new Gpt2Run(new CpuOps(), DType.F32);
        // index.json full_train: optimizer.param_groups[0] (wd 0.1) under HF names, c_attn fused; the engine splits c_attn.
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyGpt2, "index.json")));
        var fullTrain = index.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("kind").GetString() == "full_train");
        var group = fullTrain.GetProperty("optimizer").GetProperty("param_groups")[0];
        Assert.Equal(0.1, group.GetProperty("weight_decay").GetDouble());
        var decayed = group.GetProperty("params").EnumerateArray()
            .Select(p => Gpt2TensorNames.ToCanonical(p.GetString()!)!)
            .SelectMany(n => n.EndsWith("c_attn.weight", StringComparison.Ordinal) ? "qkv".Select(part => n.Replace("c_attn.", $"c_attn.{part}.")) : new[] { n })
            .Order(StringComparer.Ordinal);

        Assert.Equal(decayed, run.Model.Parameters.Where(p => p.Decay).Select(p => p.Name).Order(StringComparer.Ordinal));
        // 28 HF tensors, each c_attn weight and bias as 3 thirds: 36, of which 14 decay (10 + 2·2 more thirds).
        Assert.Equal((36, 22), (run.Model.Parameters.Count, run.Model.Parameters.Count(p => !p.Decay)));
    }

    [Fact]
    public void Parameters_Mistral_NormsDoNotDecayEveryMatrixDoes()
    {
        using var ops = new CpuOps();
        using var dir = ModelDirectory.Open(Fixtures.TinyNative);
        using var weights = ModelWeights.Load(dir, ops, DType.F32);
        using var model = ModelFamilies.Create(ops, weights);
        using var lm = TrainingModel.Full(ops, model, weights);

        var config = (MistralConfig)dir.Config;
        var norms = Enumerable.Range(0, config.NLayers).SelectMany(l => new[] { MistralTensorNames.AttentionNorm(l), MistralTensorNames.FfnNorm(l) })
            .Append(MistralTensorNames.Norm).Order(StringComparer.Ordinal);
        Assert.Equal(MistralTensorNames.Expected(config).Select(e => e.Name), lm.Parameters.Select(p => p.Name));
        Assert.Equal(norms, lm.Parameters.Where(p => !p.Decay).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(lm.Parameters, p => Assert.Same(weights[p.Name], p.Value));   // fp32: the master is the model's weight
    }

    [Fact]
    public void GlobalNorm_TiedWte_IsOneParameterWithBothContributions_NormIsTheFixturesGradientNorm()
    {
        using var run = new Gpt2Run(new CpuOps(), DType.F32);
        run.Model.ZeroGrads();
        run.Model.ForwardBackward(run.Batch, run.Batch.WeightSum);

        Assert.Single(run.Model.Parameters, p => p.Name == Gpt2TensorNames.Wte);
        Assert.DoesNotContain(run.Model.Parameters, p => p.Name == Gpt2TensorNames.LmHead);
        // The reference norm: every entry of grads.safetensors (HF names, wte once) squared and summed in float64.
        double expected = Math.Sqrt(SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyGpt2Train, "grads.safetensors")).Values
            .Sum(t => t.ToFloat32().Sum(g => (double)g * g)));
        Assert.Equal(expected, GradientClipping.GlobalNorm(run.Ops, run.Model.Parameters), 1e-5 * expected);   // grad_norm_rel
    }

    [Fact]
    public void Train_EmulatedFp32_EqualsCpu()
    {
        using var cpu = new Gpt2Run(new CpuOps(), DType.F32);
        using var emu = new Gpt2Run(new CudaOps(TestDevices.Emulated(), DType.F32, ownsDevice: true), DType.F32);
        var cpuLosses = cpu.Train(steps: 3, lr: 1e-3);
        var emuLosses = emu.Train(steps: 3, lr: 1e-3);

        Assert.Equal(cpuLosses, emuLosses, (a, b) => Math.Abs(a - b) < 1e-5);   // the fixture's loss tolerance
        double worst = cpu.Model.Parameters.Zip(emu.Model.Parameters)
            .Max(pair => MaxDiff(cpu.Download(pair.First.Value), emu.Download(pair.Second.Value)));
        Assert.True(worst < 1e-5, $"weights after 3 steps differ by {worst:E2} between cpu and emu");
    }

    [Fact]
    public void Train_EmulatedBf16_LossFallsAndWorkingWeightsAreTheMastersRounded()
    {
        using var run = new Gpt2Run(new CudaOps(TestDevices.Emulated(), DType.BF16, ownsDevice: true), DType.BF16);
        var masters = run.Model.Parameters.Where(p => p.Value.DType == DType.F32).ToList();
        Assert.Equal(run.Model.Parameters.Count, masters.Count);   // every master fp32, separate from the bf16 weight

        var losses = run.Train(steps: 6, lr: 1e-2);

        Assert.True(losses[^1] < losses[0] - 0.1, $"bf16 losses {string.Join(", ", losses.Select(l => l.ToString("F4")))} do not fall");
        foreach (var p in run.Model.Parameters)
        {
            var master = run.Download(p.Value);
            FloatBits.RoundToBFloat16(master);
            Assert.Equal(master, run.Download(run.Weights[p.Name]));
        }
    }

    private static double MaxDiff(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs((double)p.First - p.Second));

    /// <summary>tiny-gpt2 from hf/ on a device, every parameter trained, the fixture's training batch (4 rows of 31 targets).</summary>
    private sealed class Gpt2Run : IDisposable
    {
        private readonly ModelDirectory _dir;
        private readonly ICausalLm _model;

        public Gpt2Run(IOps ops, DType dtype)
        {
            Ops = ops;
            _dir = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
            Weights = ModelWeights.Load(_dir, ops, dtype);
            _model = ModelFamilies.Create(ops, Weights);
            Model = TrainingModel.Full(ops, _model, Weights, master: _dir.Read);
            var tokens = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyGpt2Train, "batch.safetensors"))["tokens"];
            Batch = TrainBatch.FromRows(tokens.ToInt32(), tokens.Shape[0], tokens.Shape[1]);
        }

        public IOps Ops { get; }
        public ModelWeights Weights { get; }
        public TrainingModel Model { get; }
        public TrainBatch Batch { get; }

        /// <summary>Plain AdamW steps on the batch (wd 0.1 on the decay group, no clipping): the loss before each.</summary>
        public double[] Train(int steps, double lr)
        {
            using var adam = new AdamW(Ops, Model.Parameters, 0.9, 0.95, 1e-8, 0.1);
            var losses = new double[steps];
            for (int s = 0; s < steps; s++)
            {
                Model.ZeroGrads();
                losses[s] = Model.ForwardBackward(Batch, Batch.WeightSum) / Batch.WeightSum;
                Model.Update(adam, lr);
            }
            return losses;
        }

        public float[] Download(Tensor t) => Ops.DownloadFloats(t);

        public void Dispose()
        {
            Model.Dispose();
            _model.Dispose();
            Weights.Dispose();
            _dir.Dispose();
            Ops.Dispose();
        }
    }
}
