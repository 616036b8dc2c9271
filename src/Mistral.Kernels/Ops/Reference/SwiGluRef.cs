namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// The gated FFN's middle: y = silu(gate) ⊙ up, silu(x) = x · sigmoid(x)
/// (model.py FeedForward: <c>self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))</c>; gate = w1·x, up = w3·x).
/// Legend: T = tokens, F = hidden dim.
/// </summary>
public static class SwiGluRef
{
    public static void Forward(
        ReadOnlySpan<float> gate,   // [T, F]
        ReadOnlySpan<float> up,     // [T, F]
        Span<float> y)              // [T, F]
    {
        for (int i = 0; i < y.Length; i++)
            y[i] = Silu(gate[i]) * up[i];
    }

    /// <summary>dUp = dY · silu(gate); dGate = dY · up · silu'(gate), silu'(x) = σ(x)·(1 + x·(1 − σ(x))).</summary>
    public static void Backward(
        ReadOnlySpan<float> gate,   // [T, F]
        ReadOnlySpan<float> up,     // [T, F]
        ReadOnlySpan<float> dY,     // [T, F]
        Span<float> dGate,          // [T, F] overwritten
        Span<float> dUp)            // [T, F] overwritten
    {
        for (int i = 0; i < dY.Length; i++)
        {
            float g = gate[i], u = up[i], dy = dY[i];   // read first: dGate/dUp may alias the inputs
            float sigmoid = Sigmoid(g);
            dUp[i] = dy * g * sigmoid;
            dGate[i] = dy * u * sigmoid * (1f + g * (1f - sigmoid));
        }
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static float Silu(float x) => x * Sigmoid(x);
}
