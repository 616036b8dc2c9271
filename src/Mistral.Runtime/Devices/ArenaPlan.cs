using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Devices;

/// <summary>
/// Device memory a run needs besides the weights, from the config and the batch asked for: the rolling KV cache and
/// the transformer's activations for the largest step (a prefill chunk), with the logits and the decode workspace.
/// Reserved once in the arena at load (<see cref="DeviceMemoryPool.Reserve"/>), so no step allocates from the driver.
/// Legend: T = tokens of the largest step, D = dim, F = hidden dim, V = vocab.
/// </summary>
public static class ArenaPlan
{
    /// <summary>Slack for the granule rounding of each tensor and the small per-step uploads (ids, positions).</summary>
    private const long Slack = 4L << 20;

    public static long Bytes(ModelConfig c, DType activations, int rows, int slots, int maxStepTokens)
    {
        long elt = activations.SizeOf(), T = Math.Max(1, maxStepTokens);
        long kvWidth = (long)c.NKvHeads * c.HeadDim, qWidth = (long)c.NHeads * c.HeadDim;
        long cache = 2L * c.NLayers * rows * slots * kvWidth * elt;
        // h, x, proj [T, D]; q, att [T, H·Dh]; k, v [T, Hkv·Dh]; gate, up, hidden [T, F]; last, norm_out [T, D]
        long activationsBytes = T * (5L * c.Dim + 2 * qWidth + 2 * kvWidth + 3L * c.HiddenDim) * elt;
        long logits = T * c.VocabSize * elt;
        var attention = new Mistral.Kernels.Ops.AttentionConfig(c.NHeads, c.NKvHeads, c.HeadDim, c.Window);
        long decode = AttentionDecodeKernel.WorkspaceBytes(attention, Math.Max(1, slots), rows);
        return cache + activationsBytes + logits + decode + Slack;
    }
}
