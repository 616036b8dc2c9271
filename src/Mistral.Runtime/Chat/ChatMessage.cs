namespace Mistral.Runtime.Chat;

/// <summary>One message of a conversation.</summary>
public readonly record struct ChatMessage(ChatRole Role, string Content);
