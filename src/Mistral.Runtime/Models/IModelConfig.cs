namespace Mistral.Runtime.Models;

/// <summary>
/// What every family's config tells the engine above the model: the KV cache's shape, the attention window, the
/// vocabulary, the context and the special ids when the checkpoint states them. Each family's config record
/// (e.g. <see cref="Mistral.MistralConfig"/>) implements it next to its own fields.
/// </summary>
public interface IModelConfig
{
    /// <summary>The family's registry name (<see cref="ModelFamily.Name"/>), e.g. "mistral".</summary>
    string Family { get; }

    int LayerCount { get; }

    /// <summary>The residual stream's width (Mistral's dim, GPT-2's n_embd).</summary>
    int Width { get; }

    /// <summary>The feed-forward block's inner width (Mistral's hidden_dim, GPT-2's n_inner).</summary>
    int FeedForwardWidth { get; }

    /// <summary>Query heads per layer.</summary>
    int Heads { get; }

    int KvHeads { get; }
    int HeadDim { get; }

    /// <summary>Attention window in keys including the query itself; null means full causal attention.</summary>
    int? SlidingWindow { get; }

    /// <summary>The longest sequence the model was trained for when the checkpoint says so, else null.</summary>
    int? ContextLength { get; }

    /// <summary>
    /// The hard limit on positions when the model has one (a learned position table, as GPT-2's n_positions): no
    /// sequence may grow past it, so a request that would is refused before any work. Null when positions are
    /// computed (RoPE) and the context is only what the model was trained for.
    /// </summary>
    int? PositionLimit => null;

    int VocabSize { get; }
    bool TieWordEmbeddings { get; }
    long ParameterCount { get; }

    /// <summary>Beginning/end-of-sequence ids when the config states them, else null (the tokenizer then decides).</summary>
    int? BosId { get; }
    int? EosId { get; }

    /// <summary>The config's fields under the family's own names, for `info`.</summary>
    IReadOnlyList<(string Name, string Value)> Describe();

    /// <summary>Attention window in keys; int.MaxValue when attention is fully causal.</summary>
    int Window => SlidingWindow ?? int.MaxValue;
}
