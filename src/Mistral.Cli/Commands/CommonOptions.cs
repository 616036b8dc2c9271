using System.CommandLine;
using Mistral.Runtime.Devices;

namespace Mistral.Cli.Commands;

/// <summary>Options several verbs share, built fresh for each command (a System.CommandLine symbol has one parent).</summary>
internal static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = $"Where to run: {string.Join(", ", OpsFactory.Devices.Select(d => $"{d.Name} ({d.Description})"))}",
        DefaultValueFactory = _ => "cpu",
    };

    public static Argument<string> ModelDir() => new("MODEL")
    {
        Description = "Model directory: params.json + consolidated.safetensors|consolidated.00.pth, or config.json + model*.safetensors (HF)",
    };
}
