namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// GPT-2's bytes_to_unicode (OpenAI encoder.py): every byte gets a printable stand-in character, so byte strings
/// can be BPE'd as text. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other
/// 68 bytes take U+0100, U+0101, … in byte order (so ' ' is 'Ġ', '\n' is 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>[256] the stand-in character of each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>The byte a stand-in character means, or -1 if the character is not one.</summary>
    public static int CharToByte(char c) => c < 0x100 ? (IsPrintable(c) ? c : -1) : c < 0x100 + 68 ? Unprintable[c - 0x100] : -1;

    private static readonly byte[] Unprintable = Enumerable.Range(0, 256).Where(b => !IsPrintable(b)).Select(b => (byte)b).ToArray();

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';

    private static char[] Build()
    {
        var table = new char[256];
        var next = 0x100;
        for (var b = 0; b < 256; b++)
            table[b] = IsPrintable(b) ? (char)b : (char)next++;
        return table;
    }
}
