using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Mistral.Kernels.Compile;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// Compiles one kernels/cu file with the host C++ compiler against kernels/emu/cuda_emu.h into a shared library,
/// cached on disk under a SHA-256 of everything that goes into it (the file, every header, the emulation header,
/// the flags and the compiler's version), so a test run compiles each file once. Several processes or threads may
/// build at once: a lock file serialises builds of one library, and the result appears by atomic rename.
/// </summary>
public sealed partial class EmulatorBuild
{
    /// <summary>The flags every emulated module is built with. -fno-strict-aliasing: kernels reinterpret float* as
    /// float4* as CUDA allows; -fvisibility=hidden: only the emu_* table is exported.</summary>
    public const string Flags = $"-O2 -std=c++17 -fPIC -shared -fno-strict-aliasing -fvisibility=hidden -w -Wl,-T,{SharedArenaScriptName}";

    /// <summary>
    /// Linker script (added to the default one by INSERT) that gathers every static __shared__ variable into one
    /// output section, emu_shared, whose bounds cuda_emu.h poisons and watches: the sections the __shared__ macro's
    /// attribute names, and the .bss._ZZ* sections where g++ puts the function-local statics of templates, whose
    /// section attribute it ignores (cuda_emu.h, at __shared__, says why both). NOLOAD: zero-filled memory like .bss,
    /// no bytes in the file; 128-byte aligned, one row of the 32 four-byte banks, so offsets keep their banks.
    /// </summary>
    public const string SharedArenaScript = """
        SECTIONS
        {
          emu_shared (NOLOAD) : ALIGN(128)
          {
            HIDDEN(__start_emu_shared = .);
            *(.bss.emu_shared.* .bss._ZZ*)
            HIDDEN(__stop_emu_shared = .);
          }
        }
        INSERT AFTER .bss;
        """;

    private const string SharedArenaScriptName = "emu_shared.ld";

    /// <summary>Added for <see cref="EmulatedDeviceOptions.ContractFma"/>: a·b + c fused into one rounding wherever the
    /// compiler likes, as NVRTC does by default (--fmad=true), so results that depend on it show up on the CPU.</summary>
    public const string FmaFlags = "-mfma -ffp-contract=fast";

    /// <summary>Added for <see cref="EmulatedDeviceOptions.CountMemoryAccesses"/>: GCC's outline address-sanitizer
    /// instrumentation makes every load and store call a hook that cuda_emu.h defines under EMU_COUNTERS (no sanitizer
    /// runtime: stack and globals are left uninstrumented); no auto-vectorisation, so the accesses are the source's,
    /// not wider host vectors; line tables so a site can be named.</summary>
    public const string CountersFlags =
        "-DEMU_COUNTERS -fsanitize=kernel-address --param asan-instrumentation-with-call-threshold=0 " +
        "--param asan-stack=0 --param asan-globals=0 -fno-tree-vectorize -g1";

    private readonly string _compiler;
    private readonly string _flags;
    private readonly string _cacheDirectory;
    private readonly Lazy<string> _compilerVersion;

    public EmulatorBuild(string cacheDirectory, string compiler = "g++", bool contractFma = false, bool countMemoryAccesses = false)
    {
        _compiler = compiler;
        _flags = Flags + (contractFma ? $" {FmaFlags}" : "") + (countMemoryAccesses ? $" {CountersFlags}" : "");
        _cacheDirectory = Path.Combine(cacheDirectory, "emu");
        _compilerVersion = new Lazy<string>(() => Run(_compiler, "-dumpfullversion", Environment.CurrentDirectory).Output.Trim());
    }

    /// <summary>"g++ 12.2.0".</summary>
    public string CompilerVersion => $"{_compiler} {_compilerVersion.Value}";

    /// <summary>The path of the shared library for <paramref name="file"/>, building it if the cache lacks it.</summary>
    public string LibraryFor(KernelSources sources, KernelFile file)
    {
        var wrapper = Wrapper(file);
        var source = RewriteDynamicShared(file.Text);
        var key = Hash(sources, file.Name, source, wrapper);
        var stem = Path.GetFileNameWithoutExtension(file.Name.Replace('/', '_'));
        var library = Path.Combine(_cacheDirectory, $"{stem}-{key[..16]}.so");
        if (File.Exists(library)) return library;

        Directory.CreateDirectory(_cacheDirectory);
        using var gate = AcquireLock(library + ".lock");
        if (File.Exists(library)) return library;

        var build = Path.Combine(_cacheDirectory, $"build-{stem}-{Guid.NewGuid():N}");
        try
        {
            var cu = Path.Combine(build, "cu");
            foreach (var (name, text) in sources.Headers) Write(Path.Combine(cu, name), text);
            Write(Path.Combine(cu, file.Name), source);
            Write(Path.Combine(build, "emu", "cuda_emu.h"), sources.EmulationHeader);
            Write(Path.Combine(build, "wrapper.cpp"), wrapper);
            Write(Path.Combine(build, SharedArenaScriptName), SharedArenaScript);
            var temporary = library + $".{Guid.NewGuid():N}.tmp";
            var (exit, output) = Run(_compiler, $"{_flags} -I cu -I emu -o {temporary} wrapper.cpp", build);
            if (exit != 0)
                throw new EmulatedKernelException($"host compile of kernels/cu/{file.Name} failed ({_compiler}):\n" +
                                                  output.Replace(cu + "/", "kernels/cu/").Replace(build + "/", ""));
            File.Move(temporary, library, overwrite: true);
            return library;
        }
        finally
        {
            try { Directory.Delete(build, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>#include the .cu, then one registration per extern "C" __global__ entry point.</summary>
    private static string Wrapper(KernelFile file)
    {
        var text = new StringBuilder();
        text.Append("#include \"cuda_emu.h\"\n");
        text.Append($"#include \"{file.Name}\"\n");
        text.Append("EMU_KERNEL_TABLE(\n");
        foreach (var entry in file.EntryPoints) text.Append($"    EMU_REGISTER({entry})\n");
        text.Append(")\n");
        return text.ToString();
    }

    /// <summary>
    /// `extern __shared__ T name[];` cannot be spelled by a macro in host C++; rewrite it, on the same line, to a
    /// pointer into the block's dynamic shared memory.
    /// </summary>
    public static string RewriteDynamicShared(string source) =>
        DynamicSharedPattern().Replace(source, m =>
            $"{m.Groups["type"].Value.Trim()}* {m.Groups["name"].Value} = reinterpret_cast<{m.Groups["type"].Value.Trim()}*>(emu::dynamic_shared());");

    [GeneratedRegex(@"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?(?<type>[A-Za-z_][\w:<> ]*?)\s+(?<name>\w+)\s*\[\s*\]\s*;")]
    private static partial Regex DynamicSharedPattern();

    private string Hash(KernelSources sources, string name, string source, string wrapper)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(s));
            sha.AppendData([0]);
        }
        Add(name);
        Add(source);
        Add(wrapper);
        foreach (var (headerName, text) in sources.Headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            Add(headerName);
            Add(text);
        }
        Add(sources.EmulationHeader);
        Add(_flags);
        Add(SharedArenaScript);
        Add(CompilerVersion);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static (int Exit, string Output) Run(string program, string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EmulatedKernelException($"the emulated device needs a host C++ compiler: could not run '{program}' ({e.Message})");
        }
    }
}
