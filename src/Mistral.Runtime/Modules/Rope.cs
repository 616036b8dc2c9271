using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Modules;

/// <summary>
/// Rotary position embedding on interleaved pairs within each head of width <see cref="HeadDim"/>, applied in place.
/// Backward rotates x's gradient back in place: by then it holds d/d(rotated x) from attention, and afterwards
/// d/d(x before rotation), which is what the projection that produced x reads.
/// </summary>
public sealed class Rope(int headDim, float theta)
{
    public int HeadDim { get; } = headDim;
    public float Theta { get; } = theta;

    /// <summary>x [T, heads·Dh] rotated in place by positions I32 [T].</summary>
    public void Apply(ForwardPass pass, Tensor x, Tensor positions)
    {
        var ops = pass.Ops;
        ops.RopeForward(x, positions, HeadDim, Theta, x);
        if (pass.Train is not { } train) return;
        var tape = train.Tape;
        tape.Record(() =>
        {
            if (tape.GradOf(x) is { } dX) ops.RopeBackward(dX, positions, HeadDim, Theta, dX);
        });
    }
}
