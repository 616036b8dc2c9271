using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Serving.Engine;

/// <summary>
/// <see cref="IServingLm"/> over a model of any family (<see cref="ICausalLm"/>) and a rolling KV cache with one row per running sequence. The cache
/// keeps the model's sliding window per row (a sequence may outgrow it: the window rolls), or the whole sequence when
/// attention is unbounded.
/// </summary>
public sealed class CausalLmServingLm : IServingLm
{
    /// <summary>A sequence limit for models that state no context length (native params.json): mistral-src's 7B setting.</summary>
    public const int DefaultMaxSequenceLength = 32768;

    private readonly ICausalLm _model;
    private readonly RollingKvCache _cache;
    private readonly int? _sampleableVocab;

    /// <param name="model">not owned.</param>
    /// <param name="rows">the largest running batch.</param>
    /// <param name="maxSequenceLength">the limit to serve (default: the model's context length, else <see cref="DefaultMaxSequenceLength"/>); never above the model's context nor its position limit.</param>
    /// <param name="sampleableVocab">ids at or past this get -inf logits, so they are never sampled: the padding rows of
    /// an embedding padded past the tokenizer (<see cref="Runtime.Model.LoadedModel.SampleableVocab"/>; null = none).</param>
    public CausalLmServingLm(ICausalLm model, int rows, int? maxSequenceLength = null, int? sampleableVocab = null)
    {
        _sampleableVocab = sampleableVocab;
        var config = model.Config;
        int limit = maxSequenceLength ?? config.ContextLength ?? DefaultMaxSequenceLength;
        if (limit <= 0) throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), limit, "the sequence limit must be positive");
        if (config.ContextLength is int context) limit = Math.Min(limit, context);
        // A learned position table (GPT-2's n_positions) has no row past its end: requests beyond it are refused up front.
        if (config.PositionLimit is int positions) limit = Math.Min(limit, positions);
        _model = model;
        MaxSequenceLength = limit;
        _cache = new RollingKvCache(model.Ops, config, rows, (int)Math.Min(config.Window, limit));
    }

    public int VocabSize => _model.Config.VocabSize;
    public int Rows => _cache.Rows;
    public int MaxSequenceLength { get; }

    public void ResetRow(int row) => _cache.Reset(row);

    public void Forward(ReadOnlySpan<int> tokens, IReadOnlyList<int> rows, IReadOnlyList<int> lengths, bool allTokens, Span<float> logits)
    {
        var batch = _cache.NextBatch(rows, lengths);
        var result = _model.Forward(tokens, batch, _cache, allTokens ? LogitsFor.AllTokens : LogitsFor.LastTokens);
        _model.Ops.Download(result, logits[..checked((int)result.ElementCount)]);
        if (_sampleableVocab is int sampleable && sampleable < VocabSize)
            for (int row = 0; row < result.ElementCount / VocabSize; row++)
                logits.Slice(row * VocabSize + sampleable, VocabSize - sampleable).Fill(float.NegativeInfinity);
    }

    public void Dispose() => _cache.Dispose();
}
