namespace Mistral.Runtime.Training.Data;

/// <summary>
/// One jsonl line: either pretrain text (Text set) or an instruct conversation (Interactions set), never both.
/// </summary>
public sealed record TrainingDocument(string? Text, IReadOnlyList<Interaction>? Interactions)
{
    public static TrainingDocument Pretrain(string text) => new(text, null);
    public static TrainingDocument Instruct(IReadOnlyList<Interaction> turns) => new(null, turns);
}

/// <summary>One turn of a conversation: IsUser turns are context (no loss), the others are what the model learns to write.</summary>
public readonly record struct Interaction(bool IsUser, string Text);
