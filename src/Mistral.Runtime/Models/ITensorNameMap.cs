using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models;

/// <summary>
/// How one family's Hugging Face checkpoint names and lays out its tensors, against the family's native names (those
/// its forward and its training checkpoints use). A stored tensor holds one native tensor, or several that the
/// checkpoint fuses (GPT-2's c_attn = q | k | v); the same description serves reading and writing. Conversions run
/// once, at load and at write, never per call.
/// </summary>
public interface ITensorNameMap
{
    /// <summary>
    /// The native tensors a stored tensor of shape <paramref name="storedShape"/> holds, in order, with their native
    /// shapes: one for most, several for a fused one, none for a tensor the model does not use (e.g. rotary_emb.inv_freq).
    /// </summary>
    IReadOnlyList<(string Name, Shape Shape)> ToNative(string storedName, Shape storedShape);

    /// <summary>The stored tensor that holds a native one (the fused tensor's name for a part); throws for a name outside the model.</summary>
    string ToStored(string nativeName);

    /// <summary>
    /// Every tensor a checkpoint stores for these native tensors (a model's <see cref="CheckpointSchema.Stored"/>),
    /// each with the native parts it is made of, in the order the parts first appear.
    /// </summary>
    IReadOnlyList<StoredTensor> StoredTensors(IReadOnlyList<(string Name, Shape Shape)> native);

    /// <summary>A stored tensor as the native tensors it holds (<see cref="ToNative(string, Shape)"/>), in native layout (e.g. Mistral's HF wq/wk rows un-permuted).</summary>
    IReadOnlyList<HostTensor> ToNativeLayout(HostTensor stored);

    /// <summary>The inverse of <see cref="ToNativeLayout"/>: the native parts of <paramref name="stored"/>, in order, as the checkpoint stores them.</summary>
    HostTensor ToStoredLayout(StoredTensor stored, IReadOnlyList<HostTensor> parts);
}
