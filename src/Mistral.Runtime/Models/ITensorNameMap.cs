using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models;

/// <summary>
/// How one family's Hugging Face checkpoint names and lays out its tensors, against the family's native names (those
/// its forward and its training checkpoints use). Conversions run once, at load and at write, never per call.
/// </summary>
public interface ITensorNameMap
{
    /// <summary>The native name of a stored tensor, or null for a tensor the model does not use (e.g. rotary_emb.inv_freq).</summary>
    string? ToNative(string storedName);

    /// <summary>The stored name of a native tensor; throws for a name outside the model.</summary>
    string ToStored(string nativeName);

    /// <summary>A stored tensor in native layout (e.g. Mistral's HF wq/wk rows un-permuted), named <paramref name="nativeName"/>.</summary>
    HostTensor ToNativeLayout(HostTensor stored, string nativeName);

    /// <summary>The inverse of <see cref="ToNativeLayout"/>: a native tensor as the checkpoint stores it, named <paramref name="storedName"/>.</summary>
    HostTensor ToStoredLayout(HostTensor native, string storedName, string nativeName);
}
