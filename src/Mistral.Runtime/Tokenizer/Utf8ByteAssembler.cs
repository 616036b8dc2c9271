using System.Text;

namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Turns a run of byte-fallback tokens back into text, one byte at a time, without ever returning half a character.
/// A complete, valid UTF-8 sequence becomes its character; a byte that cannot start or continue a valid sequence
/// becomes U+FFFD and decoding resumes at the next byte (SentencePiece's rule: each invalid byte is one U+FFFD).
/// An unfinished sequence is held back until it completes or <see cref="Flush"/> ends the run, so feeding bytes one
/// by one gives exactly what decoding the whole run at once gives.
/// </summary>
internal sealed class Utf8ByteAssembler
{
    private readonly byte[] _pending = new byte[4];
    private int _count;
    private readonly StringBuilder _output = new();

    private enum Status { Complete, Invalid, NeedMore }

    /// <summary>Adds one byte; returns the characters it completed (often "").</summary>
    public string Push(byte value)
    {
        _pending[_count++] = value;
        Drain(endOfRun: false);
        return TakeOutput();
    }

    /// <summary>Ends the run: an unfinished sequence becomes one U+FFFD per byte.</summary>
    public string Flush()
    {
        Drain(endOfRun: true);
        return TakeOutput();
    }

    private void Drain(bool endOfRun)
    {
        while (_count > 0)
        {
            var status = Examine(_pending.AsSpan(0, _count), out var length, out var rune);
            if (status == Status.NeedMore && !endOfRun)
                return;
            if (status == Status.Complete)
            {
                _output.Append(rune.ToString());
                Consume(length);
            }
            else
            {
                _output.Append('\uFFFD');
                Consume(1);
            }
        }
    }

    // Classifies the sequence starting at bytes[0] (SentencePiece's DecodeUTF8, plus rejecting surrogates and
    // code points past U+10FFFF, which a .NET string cannot hold as one character).
    private static Status Examine(ReadOnlySpan<byte> bytes, out int length, out Rune rune)
    {
        rune = default;
        var lead = bytes[0];
        length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
        if (length == 0)
            return Status.Invalid;
        for (var j = 1; j < Math.Min(length, bytes.Length); j++)
            if ((bytes[j] & 0xC0) != 0x80)
                return Status.Invalid;
        if (bytes.Length < length)
            return Status.NeedMore;

        var value = length switch
        {
            1 => lead,
            2 => ((lead & 0x1F) << 6) | (bytes[1] & 0x3F),
            3 => ((lead & 0x0F) << 12) | ((bytes[1] & 0x3F) << 6) | (bytes[2] & 0x3F),
            _ => ((lead & 0x07) << 18) | ((bytes[1] & 0x3F) << 12) | ((bytes[2] & 0x3F) << 6) | (bytes[3] & 0x3F),
        };
        var smallest = length switch { 1 => 0, 2 => 0x80, 3 => 0x800, _ => 0x10000 }; // shorter forms are overlong
        if (value < smallest || !Rune.IsValid(value))
            return Status.Invalid;
        rune = new Rune(value);
        return Status.Complete;
    }

    private void Consume(int count)
    {
        _pending.AsSpan(count, _count - count).CopyTo(_pending);
        _count -= count;
    }

    private string TakeOutput()
    {
        if (_output.Length == 0)
            return "";
        var text = _output.ToString();
        _output.Clear();
        return text;
    }
}
