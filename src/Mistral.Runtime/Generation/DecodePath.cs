namespace Mistral.Runtime.Generation;

/// <summary>How a generation chose its tokens after the prompt.</summary>
public enum DecodePath
{
    /// <summary>Each step's last-token logits [B, V] came to the host and the Sampler chose there.</summary>
    HostLogits,

    /// <summary>
    /// Greedy on a CUDA (or emulated) device: argmax ran on the device (<see cref="DecodeGraph"/>), and only the chosen
    /// ids (4 bytes a sequence) came to the host each step.
    /// </summary>
    DeviceArgmax,
}
