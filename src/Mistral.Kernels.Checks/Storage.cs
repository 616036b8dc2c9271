using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>Helpers shared by the kernel checks.</summary>
internal static class Storage
{
    /// <summary>The kernels' storage dtypes: every case runs in both.</summary>
    public static readonly DType[] DTypes = [DType.F32, DType.BF16];

    /// <summary>A copy rounded to what <paramref name="dtype"/> stores: both the kernel and the reference see these values.</summary>
    public static float[] Rounded(float[] values, DType dtype)
    {
        var copy = (float[])values.Clone();
        ElementwiseRef.RoundTo(dtype, copy);
        return copy;
    }

    public static string Dims(params int[] dims) => "[" + string.Join(", ", dims) + "]";
}
