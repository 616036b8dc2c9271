namespace Mistral.Runtime.Chat;

/// <summary>Who wrote a message of a conversation (OpenAI's "system", "user", "assistant").</summary>
public enum ChatRole
{
    System,
    User,
    Assistant,
}
