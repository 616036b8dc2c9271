using System.Text;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Streams GPT-2 ids back to text: token bytes go through one stateful UTF-8 decoder, which holds an incomplete
/// character until its last byte arrives and replaces invalid bytes exactly as decoding all bytes at once would.
/// </summary>
internal sealed class ByteLevelStreamingDecoder(Gpt2ByteLevelBpe tokenizer) : IStreamingDecoder
{
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    public string Push(int id) => Decode(tokenizer.BytesOf(id), flush: false);

    public string Flush() => Decode([], flush: true);

    private string Decode(byte[] bytes, bool flush)
    {
        var chars = new char[_utf8.GetCharCount(bytes, flush) + 2];
        var count = _utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush);
        return new string(chars, 0, count);
    }
}
