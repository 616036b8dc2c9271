using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mistral.Serving.Http;

/// <summary>Reads a request's JSON object, refusing a body over Kestrel's size limit (413) and anything that is not a JSON object (400).</summary>
internal static class RequestBody
{
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
