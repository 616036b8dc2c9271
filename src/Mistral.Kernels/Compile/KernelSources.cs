using System.Reflection;

namespace Mistral.Kernels.Compile;

/// <summary>
/// The kernel sources: every kernels/cu/**.cu file (one op family each), the headers they include (kernels/cu/**.cuh,
/// named by their path relative to kernels/cu, which is how the sources #include them), and the emulation header
/// kernels/emu/cuda_emu.h. Embedded in this assembly at build time; <see cref="FromDirectory"/> reads a checkout
/// instead so a developer can edit and rerun without rebuilding.
/// </summary>
public sealed class KernelSources
{
    private const string ResourcePrefix = "kernels/";
    private readonly Dictionary<string, KernelFile> _byEntryPoint;

    private KernelSources(IReadOnlyList<KernelFile> files, IReadOnlyDictionary<string, string> headers, string emulationHeader)
    {
        Files = files.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
        Headers = headers;
        EmulationHeader = emulationHeader;
        _byEntryPoint = new Dictionary<string, KernelFile>(StringComparer.Ordinal);
        foreach (var file in Files)
            foreach (var entry in file.EntryPoints)
                if (!_byEntryPoint.TryAdd(entry, file))
                    throw new InvalidDataException($"kernel {entry} is defined in both {_byEntryPoint[entry].Name} and {file.Name}");
    }

    public IReadOnlyList<KernelFile> Files { get; }
    /// <summary>"common/bf16.cuh" → text.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }
    public string EmulationHeader { get; }

    /// <summary>The sources compiled into this assembly.</summary>
    public static KernelSources Embedded()
    {
        var assembly = typeof(KernelSources).Assembly;
        var files = new List<KernelFile>();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        string? emu = null;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var text = ReadResource(assembly, resource);
            var path = resource[ResourcePrefix.Length..].Replace('\\', '/');
            if (path == "emu/cuda_emu.h") emu = text;
            else if (path.StartsWith("cu/", StringComparison.Ordinal)) Add(path[3..], text, files, headers);
        }
        return new KernelSources(files, headers, emu ?? throw new InvalidDataException("kernels/emu/cuda_emu.h is not embedded in Mistral.Kernels"));
    }

    /// <summary>Reads a kernels folder (the one holding cu/ and emu/) from disk.</summary>
    public static KernelSources FromDirectory(string kernelsDirectory)
    {
        var cu = Path.Combine(kernelsDirectory, "cu");
        var emu = Path.Combine(kernelsDirectory, "emu", "cuda_emu.h");
        if (!Directory.Exists(cu) || !File.Exists(emu))
            throw new DirectoryNotFoundException($"{kernelsDirectory} is not a kernels folder: expected cu/ and emu/cuda_emu.h inside it");
        var files = new List<KernelFile>();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(cu, "*.cu*", SearchOption.AllDirectories))
            Add(Path.GetRelativePath(cu, path).Replace('\\', '/'), File.ReadAllText(path), files, headers);
        return new KernelSources(files, headers, File.ReadAllText(emu));
    }

    /// <summary>These sources plus extra .cu files (tests add probe kernels this way).</summary>
    public KernelSources WithFiles(params KernelFile[] extra) =>
        new(Files.Concat(extra).ToArray(), Headers, EmulationHeader);

    /// <summary>The file that defines the extern "C" kernel <paramref name="entryPoint"/>.</summary>
    public KernelFile FileOf(string entryPoint) =>
        _byEntryPoint.TryGetValue(entryPoint, out var file)
            ? file
            : throw new KeyNotFoundException($"no kernel named {entryPoint} in kernels/cu (known: {string.Join(", ", _byEntryPoint.Keys.Order())})");

    public bool Defines(string entryPoint) => _byEntryPoint.ContainsKey(entryPoint);

    private static void Add(string relative, string text, List<KernelFile> files, Dictionary<string, string> headers)
    {
        if (relative.EndsWith(".cuh", StringComparison.Ordinal)) headers[relative] = text;
        else if (relative.EndsWith(".cu", StringComparison.Ordinal)) files.Add(new KernelFile(relative, text));
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
