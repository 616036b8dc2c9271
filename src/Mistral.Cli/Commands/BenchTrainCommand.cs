using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;
using Mistral.Runtime.Training.Pretrain;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench train --shape 7b [--seq-len 4096] [--rank 16] [--device cuda|emu] [--precision bf16|fp32]`:
/// LoRA training tokens/second and peak device memory on random weights of a named shape made on the device.
/// `mistral-cu bench train --model gpt2-small [--seq-len 1024] [--batch 8]`: full-parameter training (train's step)
/// of a `train` preset (or a bench shape): tokens/second, MFU against the device's bf16 peak, peak device memory.
/// Runs on the CUDA ops only; without a GPU it says so and exits 2 (--device emu with a tiny shape is the smoke test).
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var precision = CommonOptions.Precision();
        var shape = new Option<string>("--shape") { Description = $"LoRA bench: model shape preset: {string.Join(", ", ShapePresets.Mistral.Keys)}", DefaultValueFactory = _ => "7b" };
        var model = new Option<string?>("--model")
        {
            Description = $"Full-parameter bench of a train preset ({string.Join(", ", ModelPreset.All.Select(p => p.Id))}) or a bench shape ({string.Join(", ", ShapePresets.All.Keys)})",
        };
        var seqLen = new Option<int?>("--seq-len") { Description = "Tokens per sequence (default 4096 for LoRA, 1024 with --model)" };
        var rank = new Option<int>("--rank") { Description = "LoRA rank on wq, wk, wv, wo, w1, w2, w3", DefaultValueFactory = _ => 16 };
        var batch = new Option<int>("--batch") { Description = "With --model: sequences per optimizer step", DefaultValueFactory = _ => 8 };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Measured steps after one warm-up step", DefaultValueFactory = _ => 3 };
        var command = new Command("train", "Training tokens/second and peak device memory on a synthetic model: LoRA (default: 7B shape, seq 4096, rank 16) or full-parameter (--model gpt2-small: MFU too)")
        {
            device, precision, shape, model, seqLen, rank, batch, repetitions,
        };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            if (ops.OnDevice is not { } onDevice)
                throw new ArgumentException($"bench train measures the CUDA training path: use --device cuda (or emu for a smoke test), not {ops.Name}");
            var info = onDevice.Device.Info;
            string name = parse.GetValue(model) ?? parse.GetValue(shape)!;
            output.WriteLine($"device: {info.Name}, {ops.ActivationDType}, {(parse.GetValue(model) is null ? "shape" : "model")} {name}" +
                             (onDevice.Device.Name == "emu" ? " (emulated: a smoke test, not a speed figure)" : ""));
            if (parse.GetValue(model) is { } id)
            {
                var config = ModelPreset.Find(id)?.ToConfig() ?? ShapePresets.Get(id);
                using var full = new SyntheticModel(ops, id, config);
                double? peak = DevicePeaks.For(info.Name) is { } p ? p.Bf16TFlops * 1e12 : null;
                output.WriteLine(FullTrainBench.Run(ops, onDevice, full, new FullTrainBenchOptions(parse.GetValue(seqLen) ?? 1024, parse.GetValue(batch), parse.GetValue(repetitions)), peak));
                return ExitCodes.Ok;
            }
            using var synthetic = new SyntheticModel(ops, name);
            var options = new TrainBenchOptions(parse.GetValue(seqLen) ?? 4096, parse.GetValue(rank), parse.GetValue(repetitions));
            output.WriteLine(TrainBench.Run(ops, onDevice, synthetic, options));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
