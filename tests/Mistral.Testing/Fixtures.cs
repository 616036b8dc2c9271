namespace Mistral.Testing;

/// <summary>
/// Paths to the fixtures the repository carries in tests/fixtures (byte-identical copies of the reference fixtures).
/// Found by walking up from the test binary, so tests run from any working directory.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(Path.Combine(candidate, "tiny-mistral")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"tests/fixtures not found above {AppContext.BaseDirectory}");
    });

    public static string Root => RootPath.Value;
    public static string TinyMistral => Path.Combine(Root, "tiny-mistral");
    public static string TinyNative => Path.Combine(TinyMistral, "native");
    /// <summary>Skips the calling test where scripts/device-tree.sh trim left it out (a GPU run's checkout).</summary>
    public static string TinyNativePth => LeftOutSkips(Path.Combine(TinyMistral, "native-pth"));
    public static string TinyHf => Path.Combine(TinyMistral, "hf");
    public static string TinyReference => Path.Combine(TinyMistral, "reference");
    public static string TinyLora => Path.Combine(TinyMistral, "lora");
    /// <summary>Skips the calling test where scripts/device-tree.sh trim left it out (a GPU run's checkout).</summary>
    public static string TinyGpt2 => LeftOutSkips(Path.Combine(Root, "tiny-gpt2"));
    public static string TinyGpt2Hf => Path.Combine(TinyGpt2, "hf");
    public static string TinyGpt2Reference => Path.Combine(TinyGpt2, "reference");
    public static string TinyGpt2Train => Path.Combine(TinyGpt2, "train");
    public static string TinyGpt2Data => Path.Combine(TinyGpt2, "data");
    public static string MistralTokenizer => Path.Combine(Root, "tokenizers", "mistral");

    /// <summary>
    /// <paramref name="directory"/>, or a skip (not a failure) when it is missing while the rest of the fixtures are
    /// there: scripts/device-tree.sh leaves fixtures the device run does not need out of the tree sent to a GPU machine.
    /// </summary>
    private static string LeftOutSkips(string directory)
    {
        if (!Directory.Exists(directory))
            Xunit.Assert.Skip($"{Path.GetRelativePath(Root, directory)} is not in this checkout (scripts/device-tree.sh trim leaves it out of GPU runs)");
        return directory;
    }
}
