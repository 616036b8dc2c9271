using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Numerics;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// A LoRA-wrapped linear layer on the tape: y = x·Wᵀ + s·(drop(x)·Aᵀ)·Bᵀ with W [out, in] frozen, A [r, in], B [out, r].
/// Backward (dY [T, out]):
/// <code>
/// dB += s · dYᵀ · u          u = drop(x)·Aᵀ [T, r], saved
/// du  = s · dY · B           [T, r]
/// dA += duᵀ · drop(x)
/// dx += dY · W  +  drop'(du · A)
/// </code>
/// Dropout (inverted, p = rate) is drawn on the host from the training RNG: correct everywhere, fast nowhere — a device
/// kernel is future work; the default rate is 0 and then nothing leaves the device.
/// Legend: T = tokens, r = rank.
/// </summary>
public static class LoraLinear
{
    public static void Forward(Tape tape, Tensor x, Tensor weight, LoraAdapter? lora, float dropout, Xoshiro256StarStar? rng, Tensor y)
    {
        var ops = tape.Ops;
        ops.Gemm(x, false, weight, true, 1f, 0f, y);
        if (lora is null)
        {
            tape.Record(() =>
            {
                if (tape.GradOf(y) is { } dY) tape.AccumulateGemm(x, dY, false, weight, false, 1f);
            });
            return;
        }

        int T = x.Shape.Rows, r = lora.Rank;
        float[]? mask = dropout > 0 ? DropoutMask((int)x.ElementCount, dropout, rng ?? throw new ArgumentNullException(nameof(rng))) : null;
        var xd = mask is null ? x : Masked(tape, x, mask);   // [T, in]
        var u = tape.NewActivation(T, r);                     // [T, r]
        ops.Gemm(xd, false, lora.A.Value, true, 1f, 0f, u);
        ops.Gemm(u, false, lora.B.Value, true, lora.Scaling, 1f, y);

        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            ops.Gemm(dY, true, u, false, lora.Scaling, 1f, lora.B.Grad);
            using var du = ops.Allocate(new Shape(T, r), ops.ActivationDType);
            ops.Gemm(dY, false, lora.B.Value, false, lora.Scaling, 0f, du);
            ops.Gemm(du, true, xd, false, 1f, 1f, lora.A.Grad);
            tape.AccumulateGemm(x, dY, false, weight, false, 1f);
            if (mask is null)
            {
                tape.AccumulateGemm(x, du, false, lora.A.Value, false, 1f);
                return;
            }
            tape.AccumulateGrad(x, dst =>
            {
                ops.Gemm(du, false, lora.A.Value, false, 1f, 0f, dst);
                ApplyMask(ops, dst, mask);
            });
        });
    }

    // Inverted dropout: keep with probability 1 − p and scale the kept values by 1 / (1 − p).
    private static float[] DropoutMask(int count, float p, Xoshiro256StarStar rng)
    {
        var mask = new float[count];
        float keep = 1f / (1f - p);
        for (int i = 0; i < count; i++) mask[i] = rng.NextSingle() < p ? 0f : keep;
        return mask;
    }

    private static Tensor Masked(Tape tape, Tensor x, float[] mask)
    {
        var xd = tape.NewActivation([.. x.Shape.Dims]);
        tape.Ops.Copy(x, xd);
        ApplyMask(tape.Ops, xd, mask);
        return xd;
    }

    private static void ApplyMask(IOps ops, Tensor t, float[] mask)
    {
        var host = new float[mask.Length];
        ops.Download(t, host);
        for (int i = 0; i < host.Length; i++) host[i] *= mask[i];
        using var masked = ops.Upload(host, t.Shape, t.DType);
        ops.Copy(masked, t);
    }
}
