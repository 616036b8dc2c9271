using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// HF stores wq/wk rows permuted within each head so that rotate-half RoPE pairs (r, r + Dh/2) act like the native
/// interleaved pairs (2i, 2i+1): HF row r = native row 2r for r &lt; Dh/2, else native row 2(r − Dh/2) + 1.
/// Rows are moved as raw bytes, so the conversion is exact in any dtype. weight [heads·Dh, in].
/// </summary>
public static class HfRopePermutation
{
    /// <summary>HF rows → native rows (what loading an HF checkpoint does).</summary>
    public static HostTensor ToNative(HostTensor hf, string nativeName, int heads, int headDim) =>
        Permute(hf, nativeName, heads, headDim, toNative: true);

    /// <summary>Native rows → HF rows (what writing an HF checkpoint does).</summary>
    public static HostTensor ToHf(HostTensor native, string hfName, int heads, int headDim) =>
        Permute(native, hfName, heads, headDim, toNative: false);

    /// <summary>The native row that HF row <paramref name="hfRow"/> (within one head) holds.</summary>
    public static int NativeRowOf(int hfRow, int headDim) =>
        hfRow < headDim / 2 ? 2 * hfRow : 2 * (hfRow - headDim / 2) + 1;

    private static HostTensor Permute(HostTensor source, string resultName, int heads, int headDim, bool toNative)
    {
        if (source.Shape.Rank != 2 || source.Shape[0] != heads * headDim)
            throw new ArgumentException($"tensor '{source.Name}' {source.Shape} is not [{heads}·{headDim}, in]");
        int rowBytes = source.Shape[1] * source.DType.SizeOf();
        var src = source.Bytes;
        var dst = new byte[src.Length];
        for (int h = 0; h < heads; h++)
            for (int r = 0; r < headDim; r++)
            {
                int hfRow = h * headDim + r;
                int nativeRow = h * headDim + NativeRowOf(r, headDim);
                var (from, to) = toNative ? (hfRow, nativeRow) : (nativeRow, hfRow);
                src.Slice(from * rowBytes, rowBytes).CopyTo(dst.AsSpan(to * rowBytes, rowBytes));
            }
        return new HostTensor(resultName, source.DType, source.Shape, dst);
    }
}
