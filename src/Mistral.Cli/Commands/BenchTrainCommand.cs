using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench train --shape 7b [--seq-len 4096] [--rank 16] [--device cuda|emu] [--precision bf16|fp32]`:
/// LoRA training tokens/second and peak device memory on random weights of a named shape made on the device.
/// Runs on the CUDA ops only; without a GPU it says so and exits 2 (--device emu with --shape tiny is the smoke test).
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var precision = CommonOptions.Precision();
        var shape = new Option<string>("--shape") { Description = $"Model shape preset: {string.Join(", ", ShapePresets.Mistral.Keys)}", DefaultValueFactory = _ => "7b" };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per training step (one sequence)", DefaultValueFactory = _ => 4096 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank on wq, wk, wv, wo, w1, w2, w3", DefaultValueFactory = _ => 16 };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Measured steps after one warm-up step", DefaultValueFactory = _ => 3 };
        var command = new Command("train", "LoRA training tokens/second and peak device memory on a synthetic model (default: 7B shape, seq 4096, rank 16)")
        {
            device, precision, shape, seqLen, rank, repetitions,
        };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            if (ops.OnDevice is not { } onDevice)
                throw new ArgumentException($"bench train measures the CUDA training path: use --device cuda (or emu for a smoke test), not {ops.Name}");
            string shapeName = parse.GetValue(shape)!;
            var info = onDevice.Device.Info;
            output.WriteLine($"device: {info.Name}, {ops.ActivationDType}, shape {shapeName}" +
                             (onDevice.Device.Name == "emu" ? " (emulated: a smoke test, not a speed figure)" : ""));
            using var model = new SyntheticModel(ops, shapeName);
            var options = new TrainBenchOptions(parse.GetValue(seqLen), parse.GetValue(rank), parse.GetValue(repetitions));
            output.WriteLine(TrainBench.Run(ops, onDevice, model, options));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
