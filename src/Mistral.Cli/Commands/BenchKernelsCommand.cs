using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench kernels [--device cuda|emu] [--shape 7b|tiny] [--precision bf16|fp32]`: each kernel family of the
/// forward at a model's shapes, time (CUDA events, warm-up, median; L2 flushed before each sample, operands rotated,
/// T = 1 rows replayed from a CUDA graph), GB/s or TFLOP/s, and % of the device's peak.
/// On the emulator it runs the tiny shapes once, a smoke test of the same code path.
/// </summary>
internal static class BenchKernelsCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var shape = new Option<string>("--shape") { Description = $"Model shape preset: {string.Join(", ", ShapePresets.Mistral.Keys)}", DefaultValueFactory = _ => "7b" };
        var command = new Command("kernels", "Time each kernel family at a model's shapes: µs, GB/s or TFLOP/s, % of peak") { device, precision, shape };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenKernelOps(parse, device, precision);
            if (ops.OnDevice is not { } onDevice)
                throw new ArgumentException($"bench kernels times the CUDA kernels: use --device cuda or --device emu, not {ops.Name}");
            bool emulated = onDevice.Device.Name == "emu";
            var config = ShapePresets.GetMistral(emulated ? "tiny" : parse.GetValue(shape)!);
            var options = KernelBenchOptions.For(config, emulated);
            var info = onDevice.Device.Info;
            var peaks = DevicePeaks.For(info.Name);
            output.WriteLine($"device: {info.Name} (sm_{info.ComputeCapability}, {info.Multiprocessors} SMs, {info.TotalMemoryBytes / (1L << 30)} GiB), " +
                             $"{ops.ActivationDType}, shape {(emulated ? "tiny (emulated: a smoke test, not a speed figure)" : parse.GetValue(shape))}" +
                             (peaks is null ? ", peak unknown" : $", peak {peaks.BandwidthGBs:F0} GB/s, {peaks.Bf16TFlops:F0} bf16 TFLOP/s"));
            output.WriteLine(KernelFigure.Header);
            new KernelBench(ops, onDevice, config, options).Run(f => output.WriteLine(f.Format(peaks)),
                message => parse.InvocationConfiguration.Error.WriteLine($"note: {message}"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
