using System.Globalization;
using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model;

/// <summary>Values as transformers writes them in a config.json, for the families' config writers.</summary>
public static class HfConfigValues
{
    /// <summary>torch_dtype: the stored dtype under torch's name.</summary>
    public static string TorchDType(DType dtype) => dtype switch
    {
        DType.F32 => "float32",
        DType.BF16 => "bfloat16",
        DType.F16 => "float16",
        _ => throw new ArgumentException($"{dtype} is not a dtype model weights are stored in", nameof(dtype)),
    };

    /// <summary>
    /// An fp32 field as the shortest decimal that reads back to the same fp32 (1e-05, not 9.99999974737875e-06), so
    /// the config reads back equal and looks like the one transformers writes.
    /// </summary>
    public static JsonNode Float(float value) => JsonValue.Create(double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
}
