using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mistral.Serving.Http;

/// <summary>
/// A request the server refuses, answered as OpenAI does: the HTTP status and
/// <c>{"error": {"message", "type", "param", "code"}}</c>. Thrown by request parsing and validation; the endpoints turn
/// it into the response, so one bad request never reaches the scheduler.
/// </summary>
public sealed class OpenAiException(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public static OpenAiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, param: param, code: code);

    public Task WriteAsync(HttpResponse response) => WriteAsync(response, Status, Message, Type, Param, Code);

    public static async Task WriteAsync(HttpResponse response, int status, string message, string type, string? param, string? code)
    {
        if (response.HasStarted) return;
        response.StatusCode = status;
        response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", type);
            json.WriteString("param", param);
            json.WriteString("code", code);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        await response.Body.WriteAsync(buffer.ToArray());
    }
}
