using Mistral.Runtime.Chat;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// A document as token ids with a per-token loss mask (1 = the model is trained to produce this token, 0 = context).
/// The mask belongs to the token as a target: when packing, inputs = Tokens[..^1], targets = Tokens[1..],
/// weights = LossMask[1..] (CONVENTIONS.md "Training loss").
/// </summary>
public sealed record TokenizedDocument(int[] Tokens, byte[] LossMask)
{
    /// <summary>
    /// Pretrain: BOS + text + EOS, every target trained. Instruct: the conversation in the <see cref="ChatTemplate"/>
    /// format (the one chat and the server prompt with): BOS, user turns "[INST] text [/INST]" masked out, every
    /// non-user turn trained and followed by EOS (also trained, so the model learns to stop).
    /// <paramref name="encode"/> tokenizes text without BOS/EOS.
    /// </summary>
    public static TokenizedDocument From(TrainingDocument doc, Func<string, int[]> encode, int bos, int eos)
    {
        var tokens = new List<int> { bos };
        var mask = new List<byte> { 0 };
        if (doc.Text is { } text)
        {
            var ids = encode(text);
            tokens.AddRange(ids);
            tokens.Add(eos);
            mask.AddRange(Enumerable.Repeat((byte)1, ids.Length + 1));
        }
        else
        {
            var template = new ChatTemplate(encode, bos, eos);
            foreach (var turn in doc.Interactions!)
            {
                var ids = turn.IsUser ? template.User(turn.Text) : template.Assistant(turn.Text);
                tokens.AddRange(ids);
                mask.AddRange(Enumerable.Repeat(turn.IsUser ? (byte)0 : (byte)1, ids.Length));
            }
        }
        return new TokenizedDocument([.. tokens], [.. mask]);
    }
}
