using Mistral.Runtime.Chat;
using Mistral.Runtime.Tokenizer;
using Mistral.Serving.Engine;
using Mistral.Serving.Metrics;

namespace Mistral.Serving.Http;

/// <summary>
/// What the endpoints serve: the model's name as clients address it, its tokenizer, its chat template (null: the
/// model has none, and chat completions are refused), the scheduler that runs it and the metrics.
/// </summary>
public sealed record ServedModel(string Name, ITokenizer Tokenizer, ChatTemplate? ChatTemplate, Scheduler Scheduler, ServingMetrics Metrics)
{
    /// <summary>Ids that end a sequence: the tokenizer's EOS when it has one.</summary>
    public IReadOnlyList<int> StopTokenIds { get; } = Tokenizer.EosId >= 0 ? [Tokenizer.EosId] : [];

    /// <summary>A prompt's ids from text: BOS first when the vocabulary has one (as generate does).</summary>
    public int[] Encode(string text) => Tokenizer.Encode(text, bos: Tokenizer.AddsBos);

    /// <summary>
    /// The text a token stands for on its own, for logprobs: its decoding, with the space a SentencePiece "▁" marks at a
    /// word start (which decoding drops at the start of a text).
    /// </summary>
    public string TokenText(int id)
    {
        string text = Tokenizer.Decode([id]);
        return Tokenizer.IdToPiece(id).StartsWith('\u2581') && !text.StartsWith(' ') ? " " + text : text;
    }
}
