namespace Mistral.Kernels.Tensors;

/// <summary>Element types the engine stores. I64 exists only on the host (safetensors fixtures, token files).</summary>
public enum DType
{
    F32,
    F16,
    BF16,
    I32,
    I64,
}

public static class DTypeInfo
{
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloat(this DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>The spelling safetensors uses ("F32", "BF16", ...).</summary>
    public static string SafeTensorsName(this DType dtype) => dtype.ToString();
}
