namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Text ↔ token ids for a model. Text is always plain text: "&lt;s&gt;" inside it is characters, never a control id;
/// BOS/EOS appear only when asked for. Implementations are immutable and safe to share across threads.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of token ids (the embedding rows a model for this tokenizer needs at least).</summary>
    int VocabSize { get; }

    /// <summary>Beginning-of-sequence id, or -1 if the tokenizer has none.</summary>
    int BosId { get; }

    /// <summary>End-of-sequence id, or -1 if the tokenizer has none.</summary>
    int EosId { get; }

    /// <summary>
    /// Whether a prompt starts with BOS by this tokenizer's convention, as Hugging Face and llama.cpp apply it:
    /// SentencePiece vocabularies (Mistral, Llama) do; GPT-2's byte-level BPE does not (its &lt;|endoftext|&gt; only
    /// separates documents).
    /// </summary>
    bool AddsBos { get; }

    /// <summary>The unknown-token id, or -1 if every input can be spelled without one (byte-level BPE).</summary>
    int UnkId { get; }

    /// <summary>Encodes <paramref name="text"/>; <paramref name="bos"/>/<paramref name="eos"/> add BOS first / EOS last.</summary>
    int[] Encode(string text, bool bos, bool eos = false);

    /// <summary>Decodes ids to text: control tokens vanish, byte tokens are reassembled into UTF-8 characters.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>A fresh decoder for ids that arrive one at a time (generation).</summary>
    IStreamingDecoder CreateStreamingDecoder();

    /// <summary>The vocabulary entry of an id, as stored (with '▁' for spaces, "&lt;0x0A&gt;" for bytes).</summary>
    string IdToPiece(int id);
}
