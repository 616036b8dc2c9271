using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Chat;

/// <summary>
/// Mistral's instruct format, the single definition that chat, the instruct trainer and the server use
/// (mistral-common's tokenizer v1, which Mistral 7B Instruct v0.1/v0.2 and Mixtral 8x7B Instruct were trained on):
/// <code>
/// BOS [INST] user [/INST] answer EOS [INST] user [/INST] answer EOS …
/// </code>
/// Each piece is encoded on its own (so SentencePiece gives each its leading "▁": "▁[INST]", "▁answer") and the ids
/// are concatenated; BOS and EOS are control ids, never spelled as text. System messages are joined by a blank line
/// and put before the first user message, as mistral-common does for v1.
/// </summary>
public sealed class ChatTemplate
{
    private readonly Func<string, int[]> _encode;

    /// <param name="encode">text to ids without BOS/EOS.</param>
    public ChatTemplate(Func<string, int[]> encode, int bosId, int eosId)
    {
        if (bosId < 0 || eosId < 0) throw new ArgumentException("the instruct format needs a tokenizer with BOS and EOS ids");
        _encode = encode;
        BosId = bosId;
        EosId = eosId;
    }

    public int BosId { get; }
    public int EosId { get; }

    /// <summary>
    /// The template of a model's tokenizer, or null when it has none: Mistral's SentencePiece vocabularies carry the
    /// instruct format; byte-level BPE (GPT-2) models were never trained on a chat format.
    /// </summary>
    public static ChatTemplate? For(ITokenizer tokenizer) =>
        tokenizer is SentencePieceBpe { BosId: >= 0, EosId: >= 0 } ? new ChatTemplate(text => tokenizer.Encode(text, bos: false), tokenizer.BosId, tokenizer.EosId) : null;

    /// <summary>A user turn: "[INST] content [/INST]".</summary>
    public int[] User(string content) => _encode($"[INST] {content} [/INST]");

    /// <summary>An assistant turn: its text, then EOS (which the model learns to produce to end its turn).</summary>
    public int[] Assistant(string content) => [.. _encode(content), EosId];

    /// <summary>
    /// The prompt that asks the model for the next assistant message: BOS, the turns, ending with a user turn.
    /// Throws ArgumentException naming the message when the conversation does not alternate user/assistant.
    /// </summary>
    public int[] Prompt(IReadOnlyList<ChatMessage> messages)
    {
        var system = string.Join("\n\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Content));
        var turns = messages.Select((m, index) => (Message: m, Index: index)).Where(t => t.Message.Role != ChatRole.System).ToList();
        if (turns.Count == 0) throw new ArgumentException("the conversation has no user message");
        var ids = new List<int> { BosId };
        for (int i = 0; i < turns.Count; i++)
        {
            var expected = i % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            var (message, index) = turns[i];
            if (message.Role != expected)
                throw new ArgumentException($"message {index} is from the {Name(message.Role)} but the instruct format needs user and assistant messages to alternate, starting with the user");
            if (expected == ChatRole.Assistant) ids.AddRange(Assistant(message.Content));
            else ids.AddRange(User(i == 0 && system.Length > 0 ? system + "\n\n" + message.Content : message.Content));
        }
        if (turns[^1].Message.Role != ChatRole.User) throw new ArgumentException("the conversation must end with a user message");
        return [.. ids];
    }

    private static string Name(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        _ => "assistant",
    };
}
