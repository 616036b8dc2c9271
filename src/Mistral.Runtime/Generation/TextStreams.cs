using System.Text;
using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Generation;

/// <summary>
/// The text side of generation: decodes each sequence's new ids as they arrive (the tokenizer's streaming decoder,
/// which never splits a UTF-8 character), watches for stop strings, and hands out only text that is final: text that
/// might still turn out to be the start of a stop string is held back until it cannot. Its <see cref="OnToken"/> is a
/// <see cref="TokenCallback"/> for <see cref="Generator.Generate"/>.
/// </summary>
public sealed class TextStreams
{
    private readonly IStreamingDecoder[] _decoders;
    private readonly StringBuilder[] _text;
    private readonly int[] _emitted;
    private readonly bool[] _stopped;
    private readonly IReadOnlyList<string> _stopStrings;
    private readonly Action<int, string>? _onText;

    /// <param name="onText">receives (sequence, new final text) as soon as it is known.</param>
    public TextStreams(ITokenizer tokenizer, int sequences, IReadOnlyList<string>? stopStrings = null, Action<int, string>? onText = null)
    {
        _stopStrings = (stopStrings ?? []).Where(s => s.Length > 0).ToArray();
        _decoders = Enumerable.Range(0, sequences).Select(_ => tokenizer.CreateStreamingDecoder()).ToArray();
        _text = Enumerable.Range(0, sequences).Select(_ => new StringBuilder()).ToArray();
        _emitted = new int[sequences];
        _stopped = new bool[sequences];
        _onText = onText;
    }

    /// <summary>Adds a generated id; returns false once the sequence's text contains a stop string (cut before it).</summary>
    public bool OnToken(int sequence, int token)
    {
        if (_stopped[sequence]) return false;
        var text = _text[sequence];
        // A stop string completed by this id starts at most MaxStopLength − 1 characters before the new text.
        int searchFrom = Math.Clamp(text.Length - MaxStopLength + 1, 0, text.Length);
        text.Append(_decoders[sequence].Push(token));
        int stopAt = FindStop(text, searchFrom);
        if (stopAt >= 0)
        {
            text.Length = stopAt;
            _stopped[sequence] = true;
            Emit(sequence, text.Length);
            return false;
        }
        Emit(sequence, text.Length - HeldBack(text));
        return true;
    }

    /// <summary>Ends every sequence: flushes the decoders and hands out whatever was held back.</summary>
    public void Finish()
    {
        for (int b = 0; b < _text.Length; b++)
        {
            if (!_stopped[b])
            {
                _text[b].Append(_decoders[b].Flush());
                int stopAt = FindStop(_text[b], 0);
                if (stopAt >= 0) _text[b].Length = stopAt;
            }
            Emit(b, _text[b].Length);
        }
    }

    /// <summary>The generated text of a sequence (without the prompt), cut before a stop string.</summary>
    public string Text(int sequence) => _text[sequence].ToString();

    private int MaxStopLength => _stopStrings.Count == 0 ? 0 : _stopStrings.Max(s => s.Length);

    private int FindStop(StringBuilder text, int from)
    {
        int best = -1;
        if (_stopStrings.Count == 0) return best;
        string tail = text.ToString(from, text.Length - from);
        foreach (var stop in _stopStrings)
        {
            int at = tail.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || from + at < best)) best = from + at;
        }
        return best;
    }

    /// <summary>Length of the longest end of the text that is a proper prefix of some stop string.</summary>
    private int HeldBack(StringBuilder text)
    {
        int held = 0;
        foreach (var stop in _stopStrings)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > held; n--)
                if (EndsWith(text, stop.AsSpan(0, n))) { held = n; break; }
        return held;
    }

    private static bool EndsWith(StringBuilder text, ReadOnlySpan<char> suffix)
    {
        for (int i = 0; i < suffix.Length; i++)
            if (text[text.Length - suffix.Length + i] != suffix[i]) return false;
        return true;
    }

    private void Emit(int sequence, int upTo)
    {
        if (upTo <= _emitted[sequence]) return;
        string delta = _text[sequence].ToString(_emitted[sequence], upTo - _emitted[sequence]);
        _emitted[sequence] = upTo;
        _onText?.Invoke(sequence, delta);
    }
}
