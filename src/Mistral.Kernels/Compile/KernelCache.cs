using System.Security.Cryptography;
using System.Text;

namespace Mistral.Kernels.Compile;

/// <summary>
/// Compiled kernel images on disk, keyed by SHA-256 of the file, every header, the options, the target and the NVRTC
/// version, so a changed header or a new NVRTC never reuses a stale image. Writes are atomic (temp file + rename).
/// </summary>
public sealed class KernelCache(string directory, KernelCompiler compiler)
{
    /// <summary>~/.cache/mistral-cu, the default the CLI passes when no --cache-dir is given.</summary>
    public static string DefaultDirectory(string home) => Path.Combine(home, ".cache", "mistral-cu");

    public string Directory { get; } = directory;

    public CompiledKernel GetOrCompile(KernelSources sources, KernelFile file, CompileTarget target)
    {
        var version = KernelCompiler.Version();
        var key = Key(sources, file, target, version);
        var path = Path.Combine(Directory, "nvrtc", $"{Path.GetFileNameWithoutExtension(file.Name.Replace('/', '_'))}-{target}-{key[..16]}.{(target.IsCubin ? "cubin" : "ptx")}");
        if (File.Exists(path)) return new CompiledKernel(file.Name, target, File.ReadAllBytes(path), "");
        var compiled = compiler.Compile(sources, file, target);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, compiled.Image);
        File.Move(temporary, path, overwrite: true);
        return compiled;
    }

    public static string Key(KernelSources sources, KernelFile file, CompileTarget target, string nvrtcVersion)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(s));
            sha.AppendData([0]);
        }
        Add(file.Name);
        Add(file.Text);
        foreach (var (name, text) in sources.Headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            Add(name);
            Add(text);
        }
        foreach (var option in KernelCompiler.BaseOptions) Add(option);
        Add(target.Architecture);
        Add(nvrtcVersion);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
