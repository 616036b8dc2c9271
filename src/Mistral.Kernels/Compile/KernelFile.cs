using System.Text.RegularExpressions;

namespace Mistral.Kernels.Compile;

/// <summary>
/// One kernel source file (kernels/cu/NAME.cu) and the extern "C" __global__ entry points it defines. The name is
/// the path relative to kernels/cu ("rmsnorm.cu"); NVRTC error messages and the emulator's build use it.
/// </summary>
public sealed partial class KernelFile
{
    public KernelFile(string name, string text)
    {
        Name = name;
        Text = text;
        EntryPoints = FindEntryPoints(text);
    }

    public string Name { get; }
    public string Text { get; }
    public IReadOnlyList<string> EntryPoints { get; }

    /// <summary>The names of `extern "C" __global__ void NAME(` definitions (the only kind of entry point the kernels use).</summary>
    public static IReadOnlyList<string> FindEntryPoints(string text) =>
        EntryPointPattern().Matches(StripComments(text)).Select(m => m.Groups[1].Value).Distinct().ToArray();

    private static string StripComments(string text) => CommentPattern().Replace(text, m => new string(' ', m.Length));

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(")]
    private static partial Regex EntryPointPattern();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex CommentPattern();

    public override string ToString() => Name;
}
