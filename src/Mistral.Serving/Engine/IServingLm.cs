namespace Mistral.Serving.Engine;

/// <summary>
/// What the scheduler needs from a model, and nothing more: cache rows that sequences own, and one forward over a
/// packed step of them. The model behind it (any family's ICausalLm) is named in one
/// file only, <see cref="CausalLmServingLm"/>.
/// </summary>
public interface IServingLm : IDisposable
{
    /// <summary>Logits per token (the width of each logits row).</summary>
    int VocabSize { get; }

    /// <summary>Sequences the cache holds at once: the largest running batch.</summary>
    int Rows { get; }

    /// <summary>Longest sequence, prompt and generated tokens together, a row may reach.</summary>
    int MaxSequenceLength { get; }

    /// <summary>Empties a row so a new sequence starts in it at position 0.</summary>
    void ResetRow(int row);

    /// <summary>
    /// One step: sequence i brings lengths[i] tokens (packed back to back in <paramref name="tokens"/>) that continue
    /// cache row rows[i]; each row's cache grows by its tokens. Writes host logits to <paramref name="logits"/>:
    /// [B, V] (the last token of each sequence) or, with <paramref name="allTokens"/>, [T, V].
    /// </summary>
    void Forward(ReadOnlySpan<int> tokens, IReadOnlyList<int> rows, IReadOnlyList<int> lengths, bool allTokens, Span<float> logits);
}
