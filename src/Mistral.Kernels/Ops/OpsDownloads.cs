using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>Reading a whole tensor back into a new host array, the one-line form of <see cref="IOps.Download(Tensor, Span{float})"/>.</summary>
public static class OpsDownloads
{
    /// <summary>Every element of <paramref name="t"/> (any float dtype), as fp32 on the host.</summary>
    public static float[] DownloadFloats(this IOps ops, Tensor t)
    {
        var values = new float[t.ElementCount];
        ops.Download(t, values);
        return values;
    }
}
