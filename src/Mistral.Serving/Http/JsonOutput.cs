using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mistral.Serving.Http;

/// <summary>Writes JSON bodies and server-sent events ("data: {json}\n\n", flushed at once, ended by "data: [DONE]").</summary>
internal static class JsonOutput
{
    private static readonly byte[] Done = Encoding.ASCII.GetBytes("data: [DONE]\n\n");

    public static byte[] Build(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) write(json);
        return buffer.ToArray();
    }

    public static async Task WriteAsync(HttpResponse response, Action<Utf8JsonWriter> write)
    {
        response.ContentType = "application/json";
        await response.Body.WriteAsync(Build(write));
    }

    /// <summary>Sends the SSE headers before the first event.</summary>
    public static async Task StartEventsAsync(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync();
    }

    public static async Task WriteEventAsync(HttpResponse response, Action<Utf8JsonWriter> write, CancellationToken cancel)
    {
        var payload = Build(write);
        var frame = new byte[payload.Length + 8];
        Encoding.ASCII.GetBytes("data: ").CopyTo(frame, 0);
        payload.CopyTo(frame, 6);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        await response.Body.WriteAsync(frame, cancel);
        await response.Body.FlushAsync(cancel);
    }

    public static async Task WriteDoneAsync(HttpResponse response, CancellationToken cancel)
    {
        await response.Body.WriteAsync(Done, cancel);
        await response.Body.FlushAsync(cancel);
    }

    public static void WriteUsage(Utf8JsonWriter json, int promptTokens, int completionTokens)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", promptTokens);
        json.WriteNumber("completion_tokens", completionTokens);
        json.WriteNumber("total_tokens", promptTokens + completionTokens);
        json.WriteEndObject();
    }

    /// <summary>Opens a response object with OpenAI's id, object, created, model fields.</summary>
    public static void WriteHeader(Utf8JsonWriter json, string id, string objectType, long created, string model)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", objectType);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
    }

    /// <summary>An error inside a stream whose 200 status has already gone out.</summary>
    public static void WriteStreamError(Utf8JsonWriter json, string? message)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", $"The model failed while generating: {message}");
        json.WriteString("type", "server_error");
        json.WriteNull("param");
        json.WriteNull("code");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static string FinishReason(Engine.SequenceEnd end) => end == Engine.SequenceEnd.Stop ? "stop" : "length";
}
