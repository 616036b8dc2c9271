namespace Mistral.Runtime.Model;

/// <summary>
/// How strictly a model directory is loaded. The defaults refuse anything that would give wrong text silently;
/// AllowNonFinite reads weights holding NaN or infinity as they are (--allow-nonfinite), for inspecting a broken model.
/// </summary>
public sealed record ModelLoadOptions(bool AllowNonFinite = false)
{
    public static ModelLoadOptions Strict { get; } = new();
}
