using System.Text;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// The lines of a UTF-8 text file, each checked: File.ReadLines would turn invalid bytes into U+FFFD without a word,
/// and a model would then be trained on (or a dataset tokenized with) text nobody wrote. A line with invalid UTF-8 comes
/// back as null text with its line number, for the caller to count as a bad line. Line ends are \n or \r\n.
/// </summary>
public static class Utf8Lines
{
    public static IEnumerable<(int Number, string? Text)> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new List<byte>(256);
        var buffer = new byte[1 << 16];
        int number = 0, read;
        while ((read = stream.Read(buffer)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.AddRange(buffer.AsSpan(start, i - start));
                yield return (++number, Decode(line, number == 1));
                line.Clear();
                start = i + 1;
            }
            line.AddRange(buffer.AsSpan(start, read - start));
        }
        if (line.Count > 0)
            yield return (++number, Decode(line, number == 1));
    }

    private static string? Decode(List<byte> line, bool first)
    {
        ReadOnlySpan<byte> bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(line);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        if (first && bytes.StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[3..]; // a byte-order mark is not text
        return System.Text.Unicode.Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null;
    }
}
