namespace Mistral.Kernels.Tensors;

/// <summary>
/// Element types the engine stores. I64 exists only on the host (safetensors fixtures, token files); U8 and Bool only
/// as buffers a checkpoint carries and the model ignores (GPT-2's causal-mask `attn.bias`), so they can be read past.
/// </summary>
public enum DType
{
    F32,
    F16,
    BF16,
    I32,
    I64,
    U8,
    Bool,
}

public static class DTypeInfo
{
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.I64 => 8,
        DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloat(this DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>The spelling safetensors uses ("F32", "BF16", ...).</summary>
    public static string SafeTensorsName(this DType dtype) => dtype == DType.Bool ? "BOOL" : dtype.ToString();
}
