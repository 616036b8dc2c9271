using System.IO.Enumeration;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// Expands a file pattern: `*` and `?` match within one path segment, `**` matches any number of folders (zero included).
/// A pattern without wildcards names one file. Results are absolute and sorted by ordinal path, so every machine reads
/// the same files in the same order.
/// </summary>
public static class FileGlob
{
    private static readonly char[] Wildcards = ['*', '?'];

    public static IReadOnlyList<string> Expand(string pattern)
    {
        var full = Path.GetFullPath(pattern);
        if (full.IndexOfAny(Wildcards) < 0) return File.Exists(full) ? [full] : [];

        var segments = full.Split(Path.DirectorySeparatorChar);
        int literal = 0;
        while (segments[literal].IndexOfAny(Wildcards) < 0) literal++;
        var root = string.Join(Path.DirectorySeparatorChar, segments[..literal]);
        if (root.Length == 0) root = Path.DirectorySeparatorChar.ToString();
        if (!Directory.Exists(root)) return [];

        var found = new SortedSet<string>(StringComparer.Ordinal);
        Walk(root, segments.AsSpan(literal).ToArray(), 0, found);
        return [.. found];
    }

    private static void Walk(string dir, string[] rest, int i, SortedSet<string> found)
    {
        var segment = rest[i];
        bool last = i == rest.Length - 1;
        if (segment == "**")
        {
            if (last) { foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) found.Add(f); return; }
            Walk(dir, rest, i + 1, found); // zero folders
            foreach (var sub in Directory.EnumerateDirectories(dir)) Walk(sub, rest, i, found);
            return;
        }
        if (last)
        {
            foreach (var f in Directory.EnumerateFiles(dir))
                if (FileSystemName.MatchesSimpleExpression(segment, Path.GetFileName(f), ignoreCase: false)) found.Add(f);
            return;
        }
        foreach (var sub in Directory.EnumerateDirectories(dir))
            if (FileSystemName.MatchesSimpleExpression(segment, Path.GetFileName(sub), ignoreCase: false)) Walk(sub, rest, i + 1, found);
    }
}
