namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// The bias of a linear layer: a row broadcast forward, a column sum backward (HF Conv1D / nn.Linear with bias=True:
/// <c>x @ W + b</c>). Legend: T = rows (tokens), N = output features.
/// </summary>
public static class BiasRef
{
    /// <summary>y[t, j] = x[t, j] + bias[j]; y may alias x.</summary>
    public static void Add(
        ReadOnlySpan<float> x,      // [T, N]
        ReadOnlySpan<float> bias,   // [N]
        Span<float> y)              // [T, N]
    {
        int n = bias.Length;
        for (int i = 0; i < y.Length; i++) y[i] = x[i] + bias[i % n];
    }

    /// <summary>dBias[j] += Σ_t dY[t, j], rows taken in order t = 0, 1, … (the order the kernel keeps too).</summary>
    public static void Backward(
        ReadOnlySpan<float> dY,     // [T, N]
        Span<float> dBias)          // [N] +=
    {
        int n = dBias.Length;
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int i = j; i < dY.Length; i += n) sum += dY[i];
            dBias[j] += sum;
        }
    }
}
