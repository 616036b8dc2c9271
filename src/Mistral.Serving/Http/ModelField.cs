using System.Text.Json;

namespace Mistral.Serving.Http;

/// <summary>The "model" field every generation request names: required, and it must be the served model (404 otherwise, as OpenAI answers).</summary>
internal static class ModelField
{
    public static void Check(JsonElement body, ServedModel model)
    {
        var name = RequestFields.String(body, "model")
            ?? throw OpenAiException.BadRequest("You must provide a model parameter.", "model", "missing_required_parameter");
        if (name != model.Name)
            throw new OpenAiException(404, $"The model `{name}` does not exist. This server serves `{model.Name}`.", param: "model", code: "model_not_found");
    }
}
