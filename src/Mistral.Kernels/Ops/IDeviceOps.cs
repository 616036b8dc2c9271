using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>
/// What ops whose tensors live in a device's memory, apart from the host, can do besides the ops themselves. Reached
/// through <see cref="IOps.OnDevice"/> (null on the CPU), so code above the ops asks what a device can do instead of
/// testing its type: the generator keeps greedy decoding's logits on the device (argmax there, only ids come back),
/// the decode graph rewrites a step's inputs in place, benchmarks draw random weights where they will live.
/// </summary>
public interface IDeviceOps
{
    /// <summary>The device the tensors live on (its info, graph capture and timer).</summary>
    IDevice Device { get; }

    /// <summary>Overwrites the I32 tensor <paramref name="destination"/> from the host in place: its address stays, as a captured step needs.</summary>
    void Write(ReadOnlySpan<int> source, Tensor destination);

    /// <summary>
    /// Writes <paramref name="batch"/>'s attention sequence table now, in place, so that attention calls with this very
    /// batch object copy nothing (a captured step reads the table, rewritten before each replay).
    /// </summary>
    void PrepareBatch(AttentionBatch batch);

    /// <summary>
    /// Moves the inputs of a decode step one token on, on the device and in stream order after the work issued so far:
    /// positions[b] += 1 and the start positions of the sequence table written for <paramref name="batch"/> (every
    /// sequence one token, the batch of the step just issued). The next step's <see cref="PrepareBatch"/> then finds
    /// its table there and copies nothing; with the argmax written into the token ids, a step uploads nothing.
    /// </summary>
    void AdvanceDecodeStep(Tensor positions, AttentionBatch batch);

    /// <summary>Fills a float tensor with uniform values in [low, high) drawn on the device from (seed, element index).</summary>
    void FillUniform(Tensor destination, ulong seed, float low, float high);
}
