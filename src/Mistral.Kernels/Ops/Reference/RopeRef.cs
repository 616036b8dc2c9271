namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Rotary position embedding on interleaved pairs (x[2i], x[2i+1]) inside every head (the native Mistral layout).
/// Legend: T = tokens, Dh = head dim, heads = row width / Dh.
/// </summary>
public static class RopeRef
{
    /// <summary>
    /// inv_freq[i] = 1 / theta^(2i / Dh) for i &lt; Dh/2, in fp32 like rope.py:
    /// <c>1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))</c>.
    /// </summary>
    public static void InverseFrequencies(int headDim, float theta, Span<float> invFreq /* [Dh/2] */)
    {
        for (int i = 0; i < headDim / 2; i++)
        {
            float exponent = (float)(2 * i) / headDim;   // arange(0, dim, 2).float() / dim, in fp32
            invFreq[i] = 1f / MathF.Pow(theta, exponent);
        }
    }

    /// <summary>
    /// cos/sin of angle = p · inv_freq[i], the angle in fp32 as rope.py forms it (<c>torch.outer(t, freqs).float()</c>,
    /// then <c>torch.polar</c>); cos and sin computed in double and rounded once to fp32, i.e. the correctly rounded
    /// fp32 cos/sin of that angle (barring a double result within a few ulps of a rounding tie). rope.cu builds its
    /// table the same way, so the kernel and this reference multiply by the same fp32 numbers.
    /// </summary>
    public static (float Cos, float Sin) CosSin(int position, float invFreq)
    {
        float angle = position * invFreq;
        return ((float)Math.Cos(angle), (float)Math.Sin(angle));
    }

    /// <summary>
    /// rope.py apply_rotary_emb: the pair is a complex number multiplied by (cos + i·sin):
    /// y[2i] = x[2i]·cos − x[2i+1]·sin, y[2i+1] = x[2i]·sin + x[2i+1]·cos.
    /// </summary>
    public static void Forward(
        ReadOnlySpan<float> x,          // [T, heads·Dh]
        ReadOnlySpan<int> positions,    // [T]
        int headDim, float theta,
        Span<float> y)                  // [T, heads·Dh] (may alias x)
        => Rotate(x, positions, headDim, theta, direction: 1f, y);

    /// <summary>The rotation is orthogonal, so its transpose (the gradient map) is the rotation by −angle.</summary>
    public static void Backward(
        ReadOnlySpan<float> dY,         // [T, heads·Dh]
        ReadOnlySpan<int> positions,    // [T]
        int headDim, float theta,
        Span<float> dX)                 // [T, heads·Dh] (may alias dY)
        => Rotate(dY, positions, headDim, theta, direction: -1f, dX);

    private static void Rotate(ReadOnlySpan<float> x, ReadOnlySpan<int> positions, int headDim, float theta, float direction, Span<float> y)
    {
        int half = headDim / 2;
        int tokens = positions.Length;
        if (tokens == 0) return;
        int width = x.Length / tokens;
        Span<float> invFreq = stackalloc float[half];
        InverseFrequencies(headDim, theta, invFreq);
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int t = 0; t < tokens; t++)
        {
            for (int i = 0; i < half; i++)
            {
                (cos[i], sin[i]) = CosSin(positions[t], invFreq[i]);
                sin[i] *= direction;   // rotating by −angle flips only the sine
            }
            for (int h = 0; h < width / headDim; h++)
            {
                int baseIndex = t * width + h * headDim;
                for (int i = 0; i < half; i++)
                {
                    float x0 = x[baseIndex + 2 * i], x1 = x[baseIndex + 2 * i + 1];  // read both before y (aliasing)
                    y[baseIndex + 2 * i] = x0 * cos[i] - x1 * sin[i];
                    y[baseIndex + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
                }
            }
        }
    }
}
