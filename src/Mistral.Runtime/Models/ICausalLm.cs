using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Modules;
using Mistral.Runtime.Training;

namespace Mistral.Runtime.Models;

/// <summary>
/// A causal language model of any family, resident on one <see cref="IOps"/>: what generation, the KV cache, the
/// sampler, parity, benchmarks and training see. Nothing above this interface knows which family runs.
/// One call runs a packed ragged batch of sequences (<see cref="AttentionBatch"/>), with or without a rolling KV cache;
/// returned logits live in scratch buffers reused across calls (download them before the next call) except while
/// training, where they belong to the pass's tape.
/// </summary>
public interface ICausalLm : IDisposable
{
    IOps Ops { get; }

    /// <summary>Layers, KV heads and head dim (the cache's shape), window, vocabulary, context, special ids.</summary>
    IModelConfig Config { get; }

    /// <summary>Every linear module in model order, named as LoRA adapters and checkpoints name them (e.g. "layers.0.attention.wq").</summary>
    IReadOnlyList<Linear> Linears { get; }

    /// <summary>The norm weights LoRA training may train (lora.train_norms), layer by layer, then the final norm.</summary>
    IReadOnlyList<NamedTensor> NormWeights { get; }

    /// <summary>
    /// Runs tokens [T] (sequence b at batch.TokenOffsets[b], positions from batch.StartPositions[b]) through the model.
    /// With a cache, each sequence reads its row's earlier positions and this step's keys and values are appended;
    /// build the batch with <see cref="RollingKvCache.NextBatch"/>. Returns logits [T, V] or [B, V] (row b = the last
    /// token of sequence b).
    /// </summary>
    Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null);

    /// <summary>
    /// The same forward with the token ids and positions already on the device (I32 [T] each), so that a step can be
    /// captured and replayed with its inputs rewritten in place (<see cref="Generation.DecodeGraph"/>). The ids are
    /// not range-checked here; positions must be <see cref="AttentionBatch.Positions"/> of <paramref name="batch"/>.
    /// </summary>
    Tensor Forward(Tensor tokenIds, Tensor positions, AttentionBatch batch, RollingKvCache? cache = null,
        LogitsFor logitsFor = LogitsFor.AllTokens, ActivationObserver? observe = null);

    /// <summary>
    /// The inference forward over a cache-free batch with <paramref name="overrides"/> applied (LoRA adapters added,
    /// trained copies in place of stored weights) and nothing recorded: evaluation during training. Returns logits
    /// [T, V] in scratch, as the other inference forwards do.
    /// </summary>
    Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, ParameterOverrides overrides);

    /// <summary>
    /// The training forward: the same model over a cache-free batch, every op recorded on <paramref name="train"/>'s
    /// tape. Returns logits [T, V], owned by the tape (as are the uploaded ids and positions).
    /// </summary>
    Tensor Forward(ReadOnlySpan<int> tokens, AttentionBatch batch, TrainingPass train, ActivationObserver? observe = null);
}
