using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Parity;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu parity FIXTURE_DIR`: runs every case of the fixture's index.json against this build on one device and
/// prints one line per case. Exit code 1 when any case fails, 2 on bad input.
/// </summary>
internal static class ParityCommand
{
    public static Command Create()
    {
        var fixture = new Argument<DirectoryInfo>("FIXTURE_DIR") { Description = "Directory holding index.json (format_version 1) and its reference files" };
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var caseName = new Option<string?>("--case") { Description = "Run only the case with this name" };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Load the model from here instead of the index's path (any layout of the same model)" };
        var command = new Command("parity", "Check this build against a reference fixture (logits, activations, greedy tokens)") { fixture, device, precision, caseName, model };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            var results = ParityRunner.Run(parse.GetValue(fixture)!.FullName, ops, parse.GetValue(caseName), parse.GetValue(model)?.FullName,
                kinds: ParityCaseKinds.For(ops.ActivationDType),
                onResult: r =>
                {
                    output.WriteLine(r);
                    output.Flush();
                });
            int failed = results.Count(r => r.Status == ParityStatus.Fail);
            output.WriteLine($"{results.Count(r => r.Status == ParityStatus.Pass)} passed, {failed} failed, {results.Count(r => r.Status == ParityStatus.Skip)} skipped on {ops.Name} ({ops.ActivationDType})");
            return failed > 0 ? ExitCodes.CheckFailed : ExitCodes.Ok;
        }));
        return command;
    }
}
