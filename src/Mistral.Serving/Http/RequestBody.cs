using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mistral.Serving.Http;

/// <summary>Reads a request's JSON object, refusing a body over Kestrel's size limit (413) and anything that is not a JSON object (400).</summary>
internal static class RequestBody
{
    /// <summary>The body of a generation request, its model checked and its shared fields read (<see cref="GenerationParameters"/>).</summary>
    public static async Task<(JsonDocument Document, GenerationParameters Parameters)> ReadGenerationAsync(HttpContext http, ServedModel model, bool chat)
    {
        var document = await ReadAsync(http.Request, http.RequestAborted);
        try
        {
            ModelField.Check(document.RootElement, model);
            return (document, GenerationParameters.Parse(document.RootElement, chat));
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    public static async Task<JsonDocument> ReadAsync(HttpRequest request, CancellationToken cancel)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancel);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new OpenAiException(413, $"The request body is larger than the server's limit of {request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes.", code: "request_too_large");
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw OpenAiException.BadRequest("The request body must be a JSON object.", code: "invalid_json");
        }
        return document;
    }
}
