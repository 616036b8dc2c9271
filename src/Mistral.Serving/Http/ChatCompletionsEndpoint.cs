using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mistral.Runtime.Chat;

namespace Mistral.Serving.Http;

/// <summary>
/// POST /v1/chat/completions: messages (system, user, assistant; "developer" counts as system) through the model's
/// chat template. A model without one (GPT-2) answers 400 rather than guess a format it was never trained on.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServedModel model)
    {
        var (document, parameters) = await RequestBody.ReadGenerationAsync(http, model, chat: true);
        using var _ = document;
        var template = model.ChatTemplate ?? throw OpenAiException.BadRequest(
            $"The model `{model.Name}` has no chat template (it was not trained on a chat format); use /v1/completions with a plain prompt.", "messages", "chat_template_missing");
        var messages = ReadMessages(document.RootElement);
        int[] prompt;
        try
        {
            prompt = template.Prompt(messages);
        }
        catch (ArgumentException e)
        {
            throw OpenAiException.BadRequest($"Invalid 'messages': {e.Message}.", "messages");
        }
        using var run = new RequestRun(model, [prompt], parameters, promptLogprobs: false, "messages", http.RequestAborted);
        await new ChatResponse(model, run, parameters).RespondAsync(http);
    }

    private static List<ChatMessage> ReadMessages(JsonElement body)
    {
        if (!RequestFields.TryGet(body, "messages", out var list))
            throw OpenAiException.BadRequest("You must provide messages.", "messages", "missing_required_parameter");
        if (list.ValueKind != JsonValueKind.Array) throw RequestFields.TypeError("messages", "an array", list);
        var messages = new List<ChatMessage>();
        foreach (var item in list.EnumerateArray())
        {
            string param = $"messages[{messages.Count}]";
            if (item.ValueKind != JsonValueKind.Object) throw RequestFields.TypeError(param, "an object", item);
            var role = RequestFields.String(item, "role") switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                null => throw OpenAiException.BadRequest($"Missing required parameter: '{param}.role'.", param + ".role", "missing_required_parameter"),
                var other => throw OpenAiException.BadRequest($"Invalid value: '{other}'. Supported values are: 'system', 'user' and 'assistant'.", param + ".role", "invalid_value"),
            };
            messages.Add(new ChatMessage(role, Content(item, param)));
        }
        if (messages.Count == 0) throw OpenAiException.BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array");
        return messages;
    }

    /// <summary>A string, or a list of text parts joined (other part types, images, are not for these models).</summary>
    private static string Content(JsonElement message, string param)
    {
        if (!RequestFields.TryGet(message, "content", out var content)) return "";
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array) throw RequestFields.TypeError(param + ".content", "a string or an array of content parts", content);
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || RequestFields.String(part, "type") != "text")
                throw OpenAiException.BadRequest($"Invalid '{param}.content': only text content parts are supported.", param + ".content", "invalid_value");
            text.Append(RequestFields.String(part, "text"));
        }
        return text.ToString();
    }
}
