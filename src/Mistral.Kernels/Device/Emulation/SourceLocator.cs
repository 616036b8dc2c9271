using System.Diagnostics;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// Names the kernel source line of an instruction in a counters-build kernel library (built with line tables) through
/// binutils' addr2line, one process per batch of new offsets, cached. Inlined frames are walked outwards past
/// cuda_emu.h (a float4 copy is emulated there), so a site reads "rmsnorm.cu:61", or "common/common.cuh:120 ←
/// rmsnorm.cu:61" for a helper inlined into a kernel. Without addr2line a site is its offset, "+0x1a2b".
/// </summary>
internal sealed class SourceLocator
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Library, ulong Offset), string> _cache = new();

    /// <param name="offsets">Return addresses of instrumentation calls: each names the instruction before it.</param>
    public IReadOnlyList<string> Locate(string library, IReadOnlyList<ulong> offsets)
    {
        lock (_gate)
        {
            var missing = offsets.Where(o => !_cache.ContainsKey((library, o))).Distinct().ToList();
            if (missing.Count > 0)
            {
                var names = Resolve(library, missing);
                for (int i = 0; i < missing.Count; i++) _cache[(library, missing[i])] = names[i];
            }
            return offsets.Select(o => _cache[(library, o)]).ToList();
        }
    }

    private static List<string> Resolve(string library, List<ulong> offsets)
    {
        var fallback = offsets.Select(o => $"+0x{o:x}").ToList();
        var start = new ProcessStartInfo("addr2line") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-e", library, "-i", "-a" }) start.ArgumentList.Add(argument);
        foreach (var offset in offsets) start.ArgumentList.Add($"0x{offset - 1:x}");
        string output;
        try
        {
            using var process = Process.Start(start)!;
            _ = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return fallback;
        }
        // "0x<address>" then one "file:line" per inlined frame, innermost first.
        var frames = new List<List<string>>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("0x", StringComparison.Ordinal)) frames.Add([]);
            else if (frames.Count > 0) frames[^1].Add(Clean(line));
        }
        if (frames.Count != offsets.Count) return fallback;
        return frames.Select((f, i) => Name(f) ?? fallback[i]).ToList();
    }

    private static string? Name(List<string> frames)
    {
        var kernel = frames.Where(f => !f.StartsWith("??", StringComparison.Ordinal) && !f.Contains("cuda_emu.h", StringComparison.Ordinal)).ToList();
        if (kernel.Count == 0) return null;
        if (!kernel[0].Contains(".cuh:", StringComparison.Ordinal)) return kernel[0];
        var cu = kernel.FirstOrDefault(f => f.Contains(".cu:", StringComparison.Ordinal));
        return cu is null ? kernel[0] : $"{kernel[0]} ← {cu}";
    }

    /// <summary>"cu/common/common.cuh:120 (discriminator 2)" → "common/common.cuh:120".</summary>
    private static string Clean(string frame)
    {
        var text = frame.Trim();
        var cut = text.IndexOf(" (", StringComparison.Ordinal);
        if (cut >= 0) text = text[..cut];
        var cu = text.LastIndexOf("cu/", StringComparison.Ordinal);
        if (cu >= 0 && (cu == 0 || text[cu - 1] == '/')) text = text[(cu + 3)..];
        return text.Trim();
    }
}
