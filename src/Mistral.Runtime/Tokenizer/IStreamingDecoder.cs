namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Decodes ids that arrive one at a time. Each call returns the text that became final with that id; an incomplete
/// UTF-8 character is held back, never returned in halves. The concatenation of every <see cref="Push"/> and the
/// final <see cref="Flush"/> equals <see cref="ITokenizer.Decode"/> of the same ids.
/// </summary>
public interface IStreamingDecoder
{
    /// <summary>Adds one id; returns the new text (possibly ""). Throws ArgumentOutOfRangeException for an id outside the vocabulary.</summary>
    string Push(int id);

    /// <summary>Ends the stream: returns held-back bytes (as U+FFFD if they never formed a character).</summary>
    string Flush();
}
